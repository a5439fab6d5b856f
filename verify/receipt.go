package verify

import (
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/checkpoint"
)

// Receipt is what an append returns: proof that an event is in the log.
// Kept by the client, it lets the log never deny the event later: the
// checkpoint is signed by the log's key and the proof ties the leaf to
// its root. (Package sealog's Receipt is this type.)
type Receipt struct {
	Seq      uint64    `json:"seq"`
	Time     time.Time `json:"time"`
	LeafHash tlog.Hash `json:"leaf_hash"`
	// Checkpoint is the signed C2SP checkpoint of the batch that committed
	// the event.
	Checkpoint string `json:"checkpoint"`
	// Proof is the inclusion proof of LeafHash in Checkpoint's tree (set
	// by the writer on request, or later by Log.Prove).
	Proof tlog.RecordProof `json:"proof,omitempty"`
}

// VerifyReceipt checks a receipt offline, with nothing but the log's
// verifier key: its checkpoint is signed by that key, and its proof ties
// the receipt's leaf hash to the checkpoint's root. It returns the
// checkpoint, which an auditor can keep as a trusted checkpoint for a
// later verification of the whole log (Options.Checkpoint).
func VerifyReceipt(r Receipt, verifierKey string) (checkpoint.Checkpoint, error) {
	v, err := note.NewVerifier(verifierKey)
	if err != nil {
		return checkpoint.Checkpoint{}, fmt.Errorf("malformed verifier key: %v", err)
	}
	c, _, err := checkpoint.Open([]byte(r.Checkpoint), note.VerifierList(v), v.Name())
	if err != nil {
		return checkpoint.Checkpoint{}, fmt.Errorf("receipt for entry %d: %w", r.Seq, err)
	}
	if r.Seq >= c.Size {
		return checkpoint.Checkpoint{}, fmt.Errorf("receipt for entry %d: its checkpoint covers only %d entries", r.Seq, c.Size)
	}
	if r.Proof == nil && c.Size > 1 {
		return checkpoint.Checkpoint{}, fmt.Errorf("receipt for entry %d has no inclusion proof (Log.Prove adds it)", r.Seq)
	}
	if err := tlog.CheckRecord(r.Proof, int64(c.Size), c.Root, int64(r.Seq), r.LeafHash); err != nil {
		return checkpoint.Checkpoint{}, fmt.Errorf("receipt for entry %d: the inclusion proof does not verify: %v", r.Seq, err)
	}
	return c, nil
}
