package main

import (
	"errors"

	"github.com/sealog/sealog"
)

var checkpointCmd = &command{
	name:    "checkpoint",
	summary: "print the latest signed checkpoint (to save elsewhere)",
	usage: `Usage: sealog checkpoint DIR [--size N] [--json]

Prints the log's latest signed checkpoint, a C2SP signed note, byte for
byte. Save it somewhere the log's operator cannot change (a ticket, an
email, another machine):

    sealog checkpoint audit-log > audit-log.2026-11-21.ckpt

and later 'sealog verify audit-log --key FILE.pub --checkpoint
audit-log.2026-11-21.ckpt' proves that no entry it covers was changed or
removed since, the tail included.

Flags:
    --size N   the checkpoint at size N instead (the end of a batch)
    --json     print {"origin","size","root","note"}
`,
}

func init() { checkpointCmd.run = runCheckpoint }

func runCheckpoint(e *env, args []string) error {
	c := checkpointCmd
	fl := newFlags(c)
	size := fl.Uint64("size", 0, "")
	asJSON := fl.Bool("json", false, "")
	pos, err := parseArgs(e, c, fl, args)
	if err != nil {
		return err
	}
	if err := wantArgs(c, pos, 1, 1, "DIR (the log)"); err != nil {
		return err
	}
	l, err := openReader(pos[0])
	if err != nil {
		return err
	}
	defer l.Close()
	var ck sealog.Checkpoint
	if *size == 0 {
		ck, err = l.Checkpoint(e.ctx)
		if errors.Is(err, sealog.ErrEmpty) {
			return ioError("the log in %s is empty: it has no checkpoint yet", pos[0]).withHint("append an event first: sealog append %s --key FILE '{\"kind\":\"log.start\"}'", pos[0])
		}
	} else {
		ck, err = l.CheckpointAt(e.ctx, *size)
		if err != nil && !errors.Is(err, sealog.ErrCorrupt) {
			return usageError("checkpoint: --size %d: %s", *size, trimSealog(err))
		}
	}
	if err != nil {
		return openError(pos[0], err)
	}
	if *asJSON {
		return writeJSON(e.stdout, map[string]any{"origin": ck.Origin, "size": ck.Size, "root": ck.Root, "note": string(ck.Note)})
	}
	_, err = e.stdout.Write(ck.Note)
	return err
}
