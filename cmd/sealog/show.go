package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/bundle"
)

var showCmd = &command{
	name:    "show",
	summary: "show one entry, optionally with its inclusion proof",
	usage: `Usage: sealog show DIR SEQ [--proof] [--json]

Shows entry SEQ of the log in DIR: its seq, time, kind, actor, resource,
payload (pretty-printed), leaf hash, and whether it was erased. The stored
line is checked before it is shown: an inclusion proof ties it to the
log's latest checkpoint, whose signature is verified with the log's key
(from sealog.json; 'sealog verify --key' checks the whole log against a
key from elsewhere). A line that fails is an error, never shown as genuine.

Flags:
    --proof   add the entry's inclusion proof against the latest checkpoint,
              in C2SP tlog-proof form (see 'sealog prove')
    --json    print {"seq","time","kind","actor","resource","payload","erased",
              "leaf_hash"} (+ "proof": the tlog-proof text)
`,
}

func init() { showCmd.run = runShow }

func runShow(e *env, args []string) error {
	c := showCmd
	fl := newFlags(c)
	withProof := fl.Bool("proof", false, "")
	asJSON := fl.Bool("json", false, "")
	pos, err := parseArgs(e, c, fl, args)
	if err != nil {
		return err
	}
	if err := wantArgs(c, pos, 2, 2, "DIR and SEQ"); err != nil {
		return err
	}
	seq, err := strconv.ParseUint(pos[1], 10, 64)
	if err != nil {
		return usageError("show: SEQ %q is not a number", pos[1])
	}
	l, err := openReader(pos[0])
	if err != nil {
		return err
	}
	defer l.Close()
	en, err := readEntry(e.ctx, l, pos[0], seq)
	if err != nil {
		return err
	}
	var proof []byte
	if *withProof {
		p, err := inclusionProof(e.ctx, l, &en, 0)
		if err != nil {
			return err
		}
		proof = p.Marshal()
	}
	if *asJSON {
		type withProofJSON struct {
			entryJSON
			Proof string `json:"proof,omitempty"`
		}
		return writeJSON(e.stdout, withProofJSON{toEntryJSON(&en), string(proof)})
	}
	writeEntryText(e.stdout, &en)
	if proof != nil {
		fmt.Fprintf(e.stdout, "\ninclusion proof (C2SP tlog-proof):\n%s", proof)
	}
	return nil
}

// readEntry reads entry seq, turning the library's errors into CLI ones.
func readEntry(ctx context.Context, l *sealog.Log, dir string, seq uint64) (sealog.Entry, error) {
	size, err := logSize(ctx, l, dir)
	if err != nil {
		return sealog.Entry{}, err
	}
	if seq >= size {
		if size == 0 {
			return sealog.Entry{}, usageError("no entry %d: the log in %s is empty", seq, dir)
		}
		return sealog.Entry{}, usageError("no entry %d: the log in %s has %d entries (seq 0–%d)", seq, dir, size, size-1)
	}
	en, err := l.Entry(ctx, seq)
	if err != nil {
		if errors.Is(err, sealog.ErrCorrupt) {
			return en, failError("entry %d: %s", seq, trimSealog(err)).withHint("the log was changed; run 'sealog verify %s' for a full report", dir)
		}
		return en, ioError("entry %d: %s", seq, trimSealog(err))
	}
	return en, nil
}

// inclusionProof builds the tlog-proof of en in the checkpoint of size
// (0: the latest).
func inclusionProof(ctx context.Context, l *sealog.Log, en *sealog.Entry, size uint64) (*bundle.InclusionProof, error) {
	var ck sealog.Checkpoint
	var err error
	if size == 0 {
		ck, err = l.Checkpoint(ctx)
	} else {
		ck, err = l.CheckpointAt(ctx, size)
	}
	if err != nil {
		return nil, usageError("%s", trimSealog(err))
	}
	if en.Seq >= ck.Size {
		return nil, usageError("entry %d is not covered by the checkpoint of size %d", en.Seq, ck.Size)
	}
	p, err := l.InclusionProof(ctx, en.Seq, ck.Size)
	if err != nil {
		return nil, ioError("%s", trimSealog(err))
	}
	return &bundle.InclusionProof{Line: en.Line, Index: en.Seq, Proof: p, Checkpoint: ck.Note}, nil
}
