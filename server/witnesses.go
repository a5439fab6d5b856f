package server

import (
	"context"

	"github.com/sealog/sealog/checkpoint"
)

// Witnesses is the log's witness client as the server uses it;
// *witnessclient.Client is one. The server tells it after each committed
// append (Notify), serves the cosignatures it collected at GET
// /checkpoint (Cosigned), and, with Config.WitnessWait, waits for a
// quorum before answering an append (Wait).
type Witnesses interface {
	// Notify says the log has grown; it must not block.
	Notify()
	// Cosigned returns the checkpoint of that size with the cosignatures
	// collected on it, or nil.
	Cosigned(size uint64) []byte
	// Wait returns a checkpoint of at least size entries cosigned by the
	// quorum, or ctx's error.
	Wait(ctx context.Context, size uint64) ([]byte, error)
}

// witnessed tells the witnesses of a committed batch and, when receipts
// wait for the quorum, rebuilds the batch on the first checkpoint the
// quorum cosigned that covers it. If the quorum does not cosign within
// Config.WitnessWait, the batch keeps its own checkpoint (signed by the
// log alone): an append is never failed because of witnesses.
func (s *Server) witnessed(ctx context.Context, b batch) batch {
	if s.cfg.Witnesses == nil {
		return b
	}
	s.cfg.Witnesses.Notify()
	if s.cfg.WitnessWait <= 0 {
		if note := s.cfg.Witnesses.Cosigned(b.ck.Size); note != nil {
			b.ckNote = note
		}
		return b
	}
	wctx, cancel := context.WithTimeout(ctx, s.cfg.WitnessWait)
	defer cancel()
	note, err := s.cfg.Witnesses.Wait(wctx, b.first+b.n)
	if err != nil {
		s.m.errors.WithLabelValues("witness_wait_timeout").Inc()
		return b
	}
	ck, err := checkpoint.ParseUnverified(note)
	if err != nil {
		return b
	}
	b.ck, b.ckNote = ck, note
	return b
}
