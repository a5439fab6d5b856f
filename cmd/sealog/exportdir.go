package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/internal/durable"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/store/file"
	storeopen "github.com/sealog/sealog/store/open"
	"github.com/sealog/sealog/tree"
)

var exportDirCmd = &command{
	name:    "export-dir",
	summary: "copy any log (PostgreSQL, SQLite) into a log directory",
	usage: `Usage: sealog export-dir LOG DIR [--json]

Writes the log LOG (a database URL, or a directory) as a new log directory
DIR in the documented layout (docs/FORMAT.md): the same origin, verifier
key and creation time, and every stored line byte for byte, in the same
batches, so that an auditor can verify it offline with 'sealog verify DIR'
or tools/verify.py, without access to the database.

The lines are copied as stored, as untrusted bytes: a tampered database
gives a directory that verify finds tampered at the same seq. The log's
RFC 3161 timestamps are copied too, as stored, into DIR/timestamps, so that
'sealog verify --tsa-roots' gives the same report on the copy. DIR must not
exist, or be empty; on an error nothing is left in it. A database being
written meanwhile is copied up to what was committed when the copy began
its last read.

Flags:
    --json   print {"dir","entries","batches","timestamps","origin","key"}
`,
}

func init() { exportDirCmd.run = runExportDir }

func runExportDir(e *env, args []string) error {
	c := exportDirCmd
	fl := newFlags(c)
	asJSON := fl.Bool("json", false, "")
	pos, err := parseArgs(e, c, fl, args)
	if err != nil {
		return err
	}
	if err := wantArgs(c, pos, 2, 2, "LOG (the log to copy) and DIR (the new log directory)"); err != nil {
		return err
	}
	srcName, dir := pos[0], logPath(pos[1])
	if _, isDB, err := databaseLog(pos[1]); err != nil {
		return err
	} else if isDB {
		return usageError("export-dir: %s names a database; the copy is written to a directory", pos[1]).
			withHint("give a new directory for the copy, like ./audit-copy")
	}
	if err := emptyDir(dir); err != nil {
		return err
	}
	loc, _, err := databaseLog(srcName)
	if err != nil {
		return err
	}
	if loc.Kind == storeopen.File {
		if _, err := requireLog(loc.Path); err != nil {
			return err
		}
	}
	octx, cancel := context.WithTimeout(e.ctx, openTimeout)
	src, err := storeopen.OpenLocation(octx, loc, storeopen.Options{ReadOnly: true, NoCreate: true})
	cancel()
	if err != nil {
		return databaseError(loc, err)
	}
	defer src.Close()
	res, err := copyToDir(e.ctx, src, dir)
	if err != nil {
		if rerr := removeMade(dir); rerr != nil {
			fmt.Fprintf(e.stderr, "sealog: removing the unfinished copy in %s: %v\n", dir, rerr)
		}
		if e.ctx.Err() != nil {
			return ioError("interrupted; nothing was written to %s", dir)
		}
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, map[string]any{"dir": dir, "entries": res.entries, "batches": res.batches, "timestamps": res.timestamps, "origin": res.meta.Origin, "key": res.meta.Key})
	}
	stamps := ""
	if res.timestamps > 0 {
		stamps = fmt.Sprintf(" and %d timestamp%s", res.timestamps, plural(res.timestamps, "s"))
	}
	fmt.Fprintf(e.stdout, "copied %d entr%s in %d batch%s%s from %s to %s\n", res.entries, map[bool]string{true: "y", false: "ies"}[res.entries == 1], res.batches, plural(res.batches, "es"), stamps, loc, dir)
	for _, w := range res.warnings {
		fmt.Fprintf(e.stderr, "sealog: warning: %s\n", w)
	}
	fmt.Fprintf(e.stderr, "Verify the copy with: sealog verify %s --key FILE.pub\n", dir)
	return nil
}

// emptyDir checks that dir does not exist or is an empty directory.
func emptyDir(dir string) error {
	ents, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return ioError("%s: %v", dir, pathErr(err))
	case len(ents) > 0:
		return ioError("%s is not empty", dir).withHint("give a new directory for the copy")
	}
	return nil
}

// removeMade removes what a failed copy left in dir, and dir itself.
func removeMade(dir string) error { return os.RemoveAll(dir) }

type dirCopy struct {
	meta                         store.Metadata
	entries, batches, timestamps uint64
	warnings                     []string
}

// copyToDir writes src's stored lines, batch by batch as their signatures
// end them, into a new file store in dir. It computes each batch's leaves,
// tree hashes and checkpoint from the lines themselves, never from src's
// stored hashes.
func copyToDir(ctx context.Context, src store.Store, dir string) (*dirCopy, error) {
	meta, err := src.Metadata(ctx)
	if err != nil {
		return nil, ioError("reading the log's metadata: %v", err)
	}
	// The head is read before the lines, as a verifier reads it: a writer
	// at work can only have added entries beyond it.
	head, err := src.Head(ctx)
	if err != nil {
		return nil, ioError("reading the log's head: %v", err)
	}
	if pr, ok := src.(store.Pruner); ok {
		st, err := pr.Pruned(ctx)
		if err != nil {
			return nil, ioError("reading the log's prune state: %v", err)
		}
		if st != nil {
			return copyPrunedToDir(ctx, src, dir, meta, head, st)
		}
	}
	res := &dirCopy{meta: meta}
	created := meta.Created
	dst, err := file.Open(dir, file.Options{Origin: meta.Origin, Key: meta.Key, Now: func() time.Time { return created }})
	if err != nil {
		return nil, ioError("creating %s: %v", dir, err)
	}
	lines := storeopen.Lines(ctx, src)
	defer lines.Close()
	r := bufio.NewReaderSize(lines, 1<<20)
	var (
		edge  tree.Edge
		batch store.Batch
	)
	for {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, ioError("entry %d: a stored line longer than %d bytes", edge.Size(), r.Size())
		}
		if err == io.EOF && len(line) == 0 {
			break
		}
		if err != nil {
			return nil, ioError("reading the stored lines: %v", err)
		}
		seq := edge.Size()
		var leaf tlog.Hash
		p, perr := format.ParseLine(line[:len(line)-1])
		if perr == nil {
			hdr := p.Header()
			leaf = hdr.LeafHash()
			batch.LastTime = p.Time
		} else {
			res.warnings = append(res.warnings, fmt.Sprintf("entry %d does not parse (%v): copied as stored", seq, perr))
		}
		if len(batch.Ends) == 0 {
			batch.First = seq
		}
		batch.Lines = append(batch.Lines, line...)
		batch.Ends = append(batch.Ends, len(batch.Lines))
		batch.Leaves = append(batch.Leaves, leaf)
		batch.Hashes = edge.Append(leaf, batch.Hashes)
		if perr != nil || p.Sig == nil {
			continue
		}
		text := checkpoint.Checkpoint{Origin: meta.Origin, Size: edge.Size(), Root: edge.Root()}.Text()
		batch.Checkpoint = checkpoint.Assemble(text, meta.Origin, p.Sig)
		if _, err := dst.Append(ctx, &batch); err != nil {
			dst.Close()
			return nil, ioError("writing %s: %v", dir, err)
		}
		res.entries += uint64(len(batch.Ends))
		res.batches++
		batch = store.Batch{Lines: batch.Lines[:0], Ends: batch.Ends[:0], Leaves: batch.Leaves[:0], Hashes: batch.Hashes[:0]}
	}
	if n := len(batch.Ends); n > 0 {
		dst.Close()
		return nil, failError("entries %d to %d are covered by no signature: the database was changed outside sealog; nothing was copied", batch.First, batch.First+uint64(n)-1).
			withHint("run 'sealog verify' on the log for a full report")
	}
	if err := dst.Close(); err != nil {
		return nil, ioError("closing %s: %v", dir, err)
	}
	// The checkpoint file is the source's head, as stored: a head that
	// claims more entries than the rows hold, or a forged one, stays
	// evidence in the copy.
	ckPath := filepath.Join(dir, layout.CheckpointFile)
	if mine, err := os.ReadFile(ckPath); err != nil || !bytes.Equal(mine, head.Checkpoint) {
		if len(head.Checkpoint) == 0 {
			err = os.Remove(ckPath)
		} else {
			err = durable.WriteFile(ckPath, head.Checkpoint, 0o644)
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, ioError("writing %s: %v", ckPath, err)
		}
		res.warnings = append(res.warnings, fmt.Sprintf("the log's head checkpoint (%d bytes) is not the one its lines end with; it was copied as stored, for verify to judge", len(head.Checkpoint)))
	}
	if err := copyTimestamps(ctx, src, dir, max(head.Size, res.entries), res); err != nil {
		return nil, err
	}
	return res, nil
}

// copyTimestamps writes the RFC 3161 timestamps src keeps, if it keeps
// any, into dir/timestamps (docs/FORMAT.md §12), as stored: they are
// untrusted, for verify to judge. Those of checkpoints after upTo (the
// head read before the lines, or the lines copied, whichever is more)
// were stamped after the copy began and are left out: they cover entries
// the copy does not hold.
func copyTimestamps(ctx context.Context, src store.Store, dir string, upTo uint64, res *dirCopy) error {
	ts, ok := src.(store.Timestamps)
	if !ok {
		return nil
	}
	tdir := filepath.Join(dir, layout.TimestampsDir)
	made, later := false, 0
	err := ts.ReadTimestamps(ctx, func(size uint64, tsr []byte) error {
		if size > upTo {
			later++
			return nil
		}
		if !made {
			if err := os.Mkdir(tdir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
				return err
			}
			made = true
		}
		if err := durable.WriteNew(filepath.Join(tdir, layout.TimestampName(size)), tsr, 0o644); err != nil {
			return err
		}
		res.timestamps++
		return nil
	})
	if err == nil && made {
		if err = durable.SyncDir(tdir); err == nil {
			err = durable.SyncDir(dir)
		}
	}
	if err != nil {
		return ioError("copying the log's timestamps to %s: %v", tdir, err)
	}
	if later > 0 {
		res.warnings = append(res.warnings, fmt.Sprintf("%d timestamp%s of checkpoints stored after the copy began %s left out", later, plural(uint64(later), "s"), map[bool]string{true: "was", false: "were"}[later == 1]))
	}
	return nil
}

// plural returns suffix unless n is 1.
func plural(n uint64, suffix string) string {
	if n == 1 {
		return ""
	}
	return suffix
}
