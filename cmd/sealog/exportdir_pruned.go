package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/internal/durable"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/store/file"
	storeopen "github.com/sealog/sealog/store/open"
)

// copyPrunedToDir writes a pruned database log into dir as a pruned log
// directory (docs/FORMAT.md §13.2): sealog.json, pruned.json from the
// store's prune state, one segment starting at the prune point with every
// stored row's line as stored (rows below the point, put back by someone,
// included, for verify to judge), and the head's checkpoint. The derived
// index and hashes files stay empty: a verifier does not read them, and
// the directory is a copy to verify, not to append to.
func copyPrunedToDir(ctx context.Context, src store.Store, dir string, meta store.Metadata, head store.Head, st *store.PruneState) (*dirCopy, error) {
	res := &dirCopy{meta: meta}
	created := meta.Created
	dst, err := file.Open(dir, file.Options{Origin: meta.Origin, Key: meta.Key, Now: func() time.Time { return created }})
	if err != nil {
		return nil, ioError("creating %s: %v", dir, err)
	}
	if err := dst.Close(); err != nil {
		return nil, ioError("creating %s: %v", dir, err)
	}
	segs := filepath.Join(dir, layout.SegmentsDir)
	if err := os.Remove(filepath.Join(segs, layout.SegmentName(0, false))); err != nil {
		return nil, ioError("writing %s: %v", dir, err)
	}
	p := &layout.Pruned{Below: st.Below, Leaf: st.Leaf, Time: st.Time, Edge: st.Edge, Record: st.Record, Rotations: st.Rotations}
	if err := durable.WriteFile(filepath.Join(dir, layout.PrunedFile), p.Marshal(), 0o644); err != nil {
		return nil, ioError("writing %s: %v", dir, err)
	}
	out, err := durable.Create(filepath.Join(segs, layout.SegmentName(st.Below, false)), 0o644)
	if err != nil {
		return nil, ioError("writing %s: %v", dir, err)
	}
	lines := storeopen.Lines(ctx, src)
	defer lines.Close()
	r := bufio.NewReaderSize(lines, 1<<20)
	w := bufio.NewWriterSize(out, 1<<20)
	for {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			out.Abort()
			return nil, ioError("a stored line longer than %d bytes", r.Size())
		}
		if err == io.EOF && len(line) == 0 {
			break
		}
		if err != nil {
			out.Abort()
			return nil, ioError("reading the stored lines: %v", err)
		}
		if _, err := w.Write(line); err != nil {
			out.Abort()
			return nil, ioError("writing %s: %v", dir, err)
		}
		res.entries++
		if l, err := format.ParseLine(line[:len(line)-1]); err == nil && l.Sig != nil {
			res.batches++
		}
	}
	if err := w.Flush(); err != nil {
		out.Abort()
		return nil, ioError("writing %s: %v", dir, err)
	}
	if err := out.Commit(); err != nil {
		return nil, ioError("writing %s: %v", dir, err)
	}
	if len(head.Checkpoint) > 0 {
		if err := durable.WriteFile(filepath.Join(dir, layout.CheckpointFile), head.Checkpoint, 0o644); err != nil {
			return nil, ioError("writing %s: %v", dir, err)
		}
	}
	res.warnings = append(res.warnings, fmt.Sprintf("the log is pruned: the copy holds its entries from %d on and pruned.json; verify it, but append to the database, not to the copy", st.Below))
	return res, nil
}
