package main

import (
	"errors"

	"github.com/sealog/sealog"
)

var checkpointCmd = &command{
	name:    "checkpoint",
	summary: "print the latest signed checkpoint (to save elsewhere)",
	usage: `Usage: sealog checkpoint DIR [--size N | --witnessed] [--json]

Prints the log's latest signed checkpoint, a C2SP signed note, byte for
byte. Save it somewhere the log's operator cannot change (a ticket, an
email, another machine):

    sealog checkpoint audit-log > audit-log.2026-11-21.ckpt

and later 'sealog verify audit-log --key FILE.pub --checkpoint
audit-log.2026-11-21.ckpt' proves that no entry it covers was changed or
removed since, the tail included.

When 'sealog serve --policy' keeps witnesses' cosignatures for the
checkpoint printed (the log directory's "witnessed" file), they are
printed with it, as more signature lines.

Flags:
    --size N   the checkpoint at size N instead (the end of a batch)
    --witnessed  the newest checkpoint cosigned by the policy's quorum
               instead (it may be older than the latest)
    --json     print {"origin","size","root","note"}
`,
}

func init() { checkpointCmd.run = runCheckpoint }

func runCheckpoint(e *env, args []string) error {
	c := checkpointCmd
	fl := newFlags(c)
	size := fl.Uint64("size", 0, "")
	asJSON := fl.Bool("json", false, "")
	witnessed := fl.Bool("witnessed", false, "")
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
	if *witnessed {
		w := witnessedNote(pos[0], l)
		if w == nil || *size != 0 {
			return ioError("%s has no checkpoint cosigned by witnesses", pos[0]).withHint("run 'sealog serve --policy FILE' over the log")
		}
		_, err = e.stdout.Write(w)
		return err
	}
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
	ck.Note = withCosignatures(pos[0], l, ck)
	if *asJSON {
		return writeJSON(e.stdout, map[string]any{"origin": ck.Origin, "size": ck.Size, "root": ck.Root, "note": string(ck.Note)})
	}
	_, err = e.stdout.Write(ck.Note)
	return err
}
