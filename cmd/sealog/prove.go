package main

import (
	"fmt"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/bundle"
)

var proveCmd = &command{
	name:    "prove",
	summary: "print an inclusion or consistency proof",
	usage: `Usage: sealog prove DIR --seq N [--size M] [--json | --receipt]
       sealog prove DIR --from M [--to N] [--json]

With --seq, prints the proof that entry N is in the log, as a C2SP
tlog-proof (https://c2sp.org/tlog-proof): the entry's exact stored line as
its extra data, the index, the RFC 6962 inclusion proof, an empty line and
the signed checkpoint verbatim. It is proven against the checkpoint of
size M (the end of a batch), or the latest.

With --from, prints the proof that the log's tree at size M is a prefix of
its tree at size N (default: the latest checkpoint): nothing that the
older checkpoint covers was changed or removed. Both sizes must be ends of
batches, where the log signed a checkpoint. The text form is:

    sealog/consistency-proof@v1
    old M
    new N
    <proof hashes, base64, one a line>
    <empty line>
    <signed checkpoint at M>
    <empty line>
    <signed checkpoint at N>

With --receipt, prints the entry's receipt instead (JSON, as an append
returns it: seq, time, leaf_hash, checkpoint, proof) with the RFC 3161
timestamp that covers it, when the log holds one (docs/TIME.md): the
token of the smallest stamped checkpoint at least as large as the
receipt's, and, if that is a later one, its checkpoint and the
consistency proof to it. Kept by the entry's owner, it proves offline
that the entry existed before the TSA's time.

'sealog verify-proof FILE --key FILE.pub' checks any of them offline.

Flags:
    --seq N          the entry to prove
    --size M         prove it against the checkpoint at size M
    --from M         the older checkpoint's size, for a consistency proof
    --to N           the newer checkpoint's size (default: the latest)
    --json           print {"kind","index","line","proof","checkpoint"} or
                     {"kind","old","new","proof"}
    --receipt        print the entry's receipt with its timestamp (JSON)
`,
}

func init() { proveCmd.run = runProve }

func runProve(e *env, args []string) error {
	c := proveCmd
	fl := newFlags(c)
	var seq, size, from, to optUint
	fl.Var(&seq, "seq", "")
	fl.Var(&size, "size", "")
	fl.Var(&from, "from", "")
	fl.Var(&to, "to", "")
	asJSON := fl.Bool("json", false, "")
	asReceipt := fl.Bool("receipt", false, "")
	pos, err := parseArgs(e, c, fl, args)
	if err != nil {
		return err
	}
	if err := wantArgs(c, pos, 1, 1, "DIR (the log)"); err != nil {
		return err
	}
	switch {
	case seq.set == from.set:
		return usageError("prove: give --seq N (inclusion) or --from M (consistency)").withHint("run 'sealog prove -h' for usage")
	case seq.set && to.set:
		return usageError("prove: --to goes with --from; an inclusion proof takes --size")
	case from.set && size.set:
		return usageError("prove: --size goes with --seq; a consistency proof takes --from and --to")
	case *asReceipt && !seq.set:
		return usageError("prove: --receipt goes with --seq: a receipt is an entry's")
	case *asReceipt && *asJSON:
		return usageError("prove: give --json or --receipt, not both (a receipt is JSON)")
	}
	dir := pos[0]
	l, err := openReader(dir)
	if err != nil {
		return err
	}
	defer l.Close()
	if seq.set {
		en, err := readEntry(e.ctx, l, dir, seq.v)
		if err != nil {
			return err
		}
		p, err := inclusionProof(e.ctx, l, &en, size.v)
		if err != nil {
			return err
		}
		if *asReceipt {
			r := sealog.Receipt{Seq: en.Seq, Time: en.Time, LeafHash: en.LeafHash, Checkpoint: string(p.Checkpoint), Proof: p.Proof}
			ok, err := l.AddTimestamp(e.ctx, &r)
			if err != nil {
				return ioError("%s", trimSealog(err))
			}
			if !ok {
				fmt.Fprintf(e.stderr, "sealog: no RFC 3161 timestamp covers entry %d yet: the receipt carries none (ask again once the log's TSA stamped a later checkpoint)\n", en.Seq)
			}
			return writeJSON(e.stdout, r)
		}
		if *asJSON {
			return writeJSON(e.stdout, map[string]any{"kind": "inclusion", "index": p.Index, "line": string(p.Line), "proof": p.Proof, "checkpoint": string(p.Checkpoint)})
		}
		_, err = e.stdout.Write(p.Marshal())
		return err
	}
	if from.v == 0 {
		return usageError("prove: --from 0: there is no checkpoint at size 0; give the size of a checkpoint saved earlier")
	}
	oldCk, err := l.CheckpointAt(e.ctx, from.v)
	if err != nil {
		return usageError("prove: --from %d: %s", from.v, trimSealog(err))
	}
	newCk, err := l.Checkpoint(e.ctx)
	if to.set {
		newCk, err = l.CheckpointAt(e.ctx, to.v)
	}
	if err != nil {
		return usageError("prove: --to %d: %s", to.v, trimSealog(err))
	}
	if oldCk.Size > newCk.Size {
		return usageError("prove: --from %d is after --to %d", oldCk.Size, newCk.Size)
	}
	proof, err := l.ConsistencyProof(e.ctx, oldCk.Size, newCk.Size)
	if err != nil {
		return ioError("%s", trimSealog(err))
	}
	p := &bundle.ConsistencyProof{Old: oldCk.Note, New: newCk.Note, Proof: proof}
	if *asJSON {
		return writeJSON(e.stdout, map[string]any{"kind": "consistency", "old": string(p.Old), "new": string(p.New), "old_size": oldCk.Size, "new_size": newCk.Size, "proof": p.Proof})
	}
	_, err = e.stdout.Write(p.Marshal())
	return err
}

// optUint is a uint64 flag that records whether it was given.
type optUint struct {
	v   uint64
	set bool
}

func (o *optUint) String() string { return "" }
func (o *optUint) Set(s string) error {
	n, err := parseUint(s)
	if err != nil {
		return err
	}
	o.v, o.set = n, true
	return nil
}
