package sealog

import (
	"bytes"
	"context"
	"errors"
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

// AddTimestamp sets r.Timestamp to the log's RFC 3161 timestamp that
// covers r's entry: the token of the smallest timestamped tree at least
// as large as r's checkpoint, and, when that tree is larger, its signed
// checkpoint and the consistency proof from r's checkpoint to it
// (verify.VerifyReceiptTimestamp checks them). It reports false, and
// leaves r as it is, when the log holds no such token yet (its TSA has
// not stamped a checkpoint since, or the log has no Timestamper). The
// token is read from the store as it is, untrusted: the verifier checks
// it.
func (l *Log) AddTimestamp(ctx context.Context, r *Receipt) (bool, error) {
	c, err := checkpoint.ParseUnverified([]byte(r.Checkpoint))
	if err != nil {
		return false, fmt.Errorf("sealog: receipt for entry %d: %w", r.Seq, err)
	}
	size, tsr, err := l.timestampCovering(ctx, c.Size)
	if err != nil || tsr == nil {
		return false, err
	}
	t := &verify.ReceiptTimestamp{TSR: tsr}
	if size != c.Size {
		ck, err := l.CheckpointAt(ctx, size)
		if err != nil {
			return false, err
		}
		if t.Consistency, err = l.ConsistencyProof(ctx, c.Size, size); err != nil {
			return false, err
		}
		t.Checkpoint = string(ck.Note)
	}
	r.Timestamp = t
	return true, nil
}

// timestampCovering returns the stored token of the smallest tree size
// at least size, or a nil token if there is none.
func (l *Log) timestampCovering(ctx context.Context, size uint64) (uint64, []byte, error) {
	var (
		found uint64
		tsr   []byte
	)
	errFound := errors.New("found")
	err := l.Timestamps(ctx, func(n uint64, b []byte) error {
		if n >= size {
			found, tsr = n, bytes.Clone(b)
			return errFound
		}
		return nil
	})
	if err != nil && !errors.Is(err, errFound) {
		return 0, nil, fmt.Errorf("sealog: reading the timestamps: %w", err)
	}
	return found, tsr, nil
}
