package sealog

import (
	"context"
	"fmt"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/verify"
)

// Receipt is what Append returns: proof that the event is in the log.
// Keep it, and the log can never deny the event later: the checkpoint is
// signed by the log's key and the proof ties the leaf to its root.
// verify.VerifyReceipt checks one offline.
type Receipt = verify.Receipt

// Prove fills in r.Proof, the inclusion proof of r's entry in r's
// checkpoint, if it is not there yet.
func (l *Log) Prove(ctx context.Context, r *Receipt) error {
	if r.Proof != nil {
		return nil
	}
	c, err := checkpoint.ParseUnverified([]byte(r.Checkpoint))
	if err != nil {
		return fmt.Errorf("sealog: receipt for entry %d: %w", r.Seq, err)
	}
	p, err := l.InclusionProof(ctx, r.Seq, c.Size)
	if err != nil {
		return err
	}
	r.Proof = p
	return nil
}
