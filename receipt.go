package sealog

import (
	"fmt"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/checkpoint"
)

// Prove fills in r.Proof, the inclusion proof of r's entry in r's
// checkpoint, if it is not there yet.
func (l *Log) Prove(r *Receipt) error {
	if r.Proof != nil {
		return nil
	}
	c, err := checkpoint.ParseUnverified([]byte(r.Checkpoint))
	if err != nil {
		return fmt.Errorf("sealog: receipt for entry %d: %w", r.Seq, err)
	}
	p, err := l.InclusionProof(r.Seq, c.Size)
	if err != nil {
		return err
	}
	r.Proof = p
	return nil
}

// VerifyReceipt checks a receipt offline: its checkpoint is signed by the
// log's verifier key, and its proof ties the receipt's leaf hash to the
// checkpoint's root. It returns the checkpoint, which an auditor can keep
// as an external checkpoint for later verification of the whole log.
func VerifyReceipt(r Receipt, verifierKey string) (Checkpoint, error) {
	v, err := note.NewVerifier(verifierKey)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("sealog: malformed verifier key: %v", err)
	}
	c, _, err := checkpoint.Open([]byte(r.Checkpoint), note.VerifierList(v), v.Name())
	if err != nil {
		return Checkpoint{}, fmt.Errorf("sealog: receipt for entry %d: %w", r.Seq, err)
	}
	if r.Seq >= c.Size {
		return Checkpoint{}, fmt.Errorf("sealog: receipt for entry %d: its checkpoint covers only %d entries", r.Seq, c.Size)
	}
	if r.Proof == nil && c.Size > 1 {
		return Checkpoint{}, fmt.Errorf("sealog: receipt for entry %d has no inclusion proof (Log.Prove adds it)", r.Seq)
	}
	if err := tlog.CheckRecord(r.Proof, int64(c.Size), c.Root, int64(r.Seq), r.LeafHash); err != nil {
		return Checkpoint{}, fmt.Errorf("sealog: receipt for entry %d: the inclusion proof does not verify: %v", r.Seq, err)
	}
	return Checkpoint{Origin: c.Origin, Size: c.Size, Root: c.Root, Note: []byte(r.Checkpoint)}, nil
}
