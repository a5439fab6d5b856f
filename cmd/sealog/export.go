package main

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/bundle"
)

var exportCmd = &command{
	name:    "export",
	summary: "write an evidence bundle of chosen entries",
	usage: `Usage: sealog export DIR --seq LIST -o BUNDLE [--size M | --timestamped] [--force]

Writes an evidence bundle: only the entries in LIST (their exact stored
lines), an inclusion proof for each, the signed checkpoint they are proven
against, and the log's origin and verifier key. 'sealog verify-bundle'
checks it offline without the rest of the log, which it does not reveal:
proofs hold only sibling hashes, and every entry's body hash is salted.
docs/BUNDLE.md specifies the format.

LIST is seqs and inclusive ranges: 5,17,40-45.

Flags:
    --seq LIST   the entries to export (at most 100000)
    -o BUNDLE    the file to write (- for stdout)
    --size M     prove against the checkpoint at size M (the end of a batch)
                 instead of the latest
    --timestamped  prove against the newest checkpoint with an RFC 3161
                 timestamp, and put the timestamp in the bundle (a bundle
                 always carries its checkpoint's timestamp if there is one)
    --force      overwrite BUNDLE if it exists
`,
}

func init() { exportCmd.run = runExport }

func runExport(e *env, args []string) error {
	c := exportCmd
	fl := newFlags(c)
	list := fl.String("seq", "", "")
	out := fl.String("o", "", "")
	fl.StringVar(out, "output", "", "")
	size := fl.Uint64("size", 0, "")
	timestamped := fl.Bool("timestamped", false, "")
	force := fl.Bool("force", false, "")
	pos, err := parseArgs(e, c, fl, args)
	if err != nil {
		return err
	}
	if err := wantArgs(c, pos, 1, 1, "DIR (the log)"); err != nil {
		return err
	}
	if *size != 0 && *timestamped {
		return usageError("export: --size and --timestamped exclude each other")
	}
	if *list == "" {
		return usageError("export: missing --seq LIST (like 5,17,40-45)")
	}
	if *out == "" {
		return usageError("export: missing -o BUNDLE (the file to write)")
	}
	seqs, err := parseSeqList(*list, bundle.MaxEntries)
	if err != nil {
		return usageError("export: --seq %s: %v", *list, err)
	}
	dir := pos[0]
	l, err := openReader(dir)
	if err != nil {
		return err
	}
	defer l.Close()
	n, err := logSize(e.ctx, l, dir)
	if err != nil {
		return err
	}
	for _, s := range seqs {
		if s >= n {
			if _, err := readEntry(e.ctx, l, dir, s); err != nil {
				return err
			}
		}
	}
	b, err := bundle.Build(e.ctx, l, seqs, bundle.Options{Size: *size, Timestamped: *timestamped})
	if err != nil {
		switch {
		case errors.Is(err, sealog.ErrCorrupt):
			return failError("%s", trimSealog(err)).withHint("the log was changed; run 'sealog verify %s'", dir)
		case errors.Is(err, sealog.ErrEmpty):
			return ioError("the log in %s is empty", dir)
		case *size != 0:
			return usageError("export: %s", trimSealog(err))
		}
		return ioError("%s", trimSealog(err))
	}
	data := b.Marshal()
	if *out == "-" {
		_, err := e.stdout.Write(data)
		return err
	}
	if err := bundle.WriteFile(*out, data, *force); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return ioError("%s already exists", *out).withHint("choose another name, or pass --force to overwrite it")
		}
		return ioError("writing %s: %v", *out, pathErr(err))
	}
	count := len(b.Entries) // Build adds the erasure record of an erased entry
	fmt.Fprintf(e.stdout, "wrote %s: %d entr%s (%s%s), proven against the checkpoint of size %d\n", *out, count, map[bool]string{true: "y", false: "ies"}[count == 1], formatSeqList(seqs),
		map[bool]string{true: ", with the erasure records of the erased ones", false: ""}[count > len(seqs)], checkpointSize(b))
	fmt.Fprintf(e.stdout, "check it with: sealog verify-bundle %s --key FILE.pub\n", *out)
	return nil
}

func checkpointSize(b *bundle.Bundle) uint64 {
	res := b.Verify("")
	return res.Checkpoint.Size
}
