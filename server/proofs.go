package server

import (
	"context"
	"net/http"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog"
)

// inclusion returns the proof of entry seq in the tree of size entries (0:
// the head), with the signed checkpoint of that size when there is one;
// needCk makes a size without one an error.
func (s *Server) inclusion(ctx context.Context, seq, size uint64, needCk bool) (*InclusionProof, *apiError) {
	h, err := s.log.Head(ctx)
	if err != nil {
		return nil, storeError(err)
	}
	if size == 0 {
		size = h.Size
	}
	switch {
	case size > h.Size:
		return nil, badRequest("size", "the log has %d entries, fewer than %d", h.Size, size)
	case seq >= size:
		return nil, badRequest("seq", "entry %d is not in a tree of %d entries", seq, size)
	}
	hr := s.log.HashReader(ctx)
	leaf, err := hr.ReadHashes([]int64{tlog.StoredHashIndex(0, int64(seq))})
	if err != nil {
		return nil, storeError(err)
	}
	p, err := tlog.ProveRecord(int64(size), int64(seq), hr)
	if err != nil {
		return nil, storeError(err)
	}
	out := &InclusionProof{Seq: seq, Size: size, LeafHash: leaf[0], Proof: p}
	if ck, aerr := s.checkpointAt(ctx, size, h.Size, h.Checkpoint.Note); aerr == nil {
		out.Checkpoint = ck
	} else if needCk {
		return nil, aerr
	}
	return out, nil
}

// checkpointAt returns the signed checkpoint of size entries: the head's,
// or the one the batch ending there carries.
func (s *Server) checkpointAt(ctx context.Context, size, head uint64, headNote []byte) (string, *apiError) {
	if size == head {
		return string(headNote), nil
	}
	ck, err := s.log.CheckpointAt(ctx, size)
	if err != nil {
		next, nerr := s.st.BatchEnd(ctx, size)
		if nerr == nil && next != size {
			return "", badRequest("size", "no signed checkpoint has %d entries; the next one has %d", size, next)
		}
		return "", badRequest("size", "no signed checkpoint has %d entries", size)
	}
	return string(ck.Note), nil
}

// handleInclusion serves GET /v1/proof/inclusion?seq=&size=.
func (s *Server) handleInclusion(w http.ResponseWriter, r *http.Request, _ TokenInfo) {
	q, aerr := newQuery(r, "seq", "size")
	if aerr != nil {
		s.fail(w, r, aerr)
		return
	}
	if !q.has("seq") {
		s.fail(w, r, badRequest("seq", "required"))
		return
	}
	seq, aerr := q.uint("seq", 0)
	var size uint64
	if aerr == nil {
		size, aerr = q.uint("size", 0)
	}
	if aerr == nil && q.has("size") && size == 0 {
		aerr = badRequest("size", "a tree of 0 entries holds no entry")
	}
	if aerr != nil {
		s.fail(w, r, aerr)
		return
	}
	p, aerr := s.inclusion(r.Context(), seq, size, false)
	if aerr != nil {
		s.fail(w, r, aerr)
		return
	}
	writeJSON(w, p)
}

// ConsistencyResponse is the body of GET /v1/proof/consistency: the proof
// that the tree of OldSize entries is a prefix of the tree of NewSize,
// with the signed checkpoints of both sizes where there are some.
type ConsistencyResponse struct {
	OldSize       uint64         `json:"old_size"`
	NewSize       uint64         `json:"new_size"`
	Proof         tlog.TreeProof `json:"proof"`
	OldCheckpoint string         `json:"old_checkpoint,omitempty"`
	NewCheckpoint string         `json:"new_checkpoint,omitempty"`
}

// handleConsistency serves GET /v1/proof/consistency?from=&to=.
func (s *Server) handleConsistency(w http.ResponseWriter, r *http.Request, _ TokenInfo) {
	q, aerr := newQuery(r, "from", "to")
	if aerr != nil {
		s.fail(w, r, aerr)
		return
	}
	if !q.has("from") {
		s.fail(w, r, badRequest("from", "required"))
		return
	}
	from, aerr := q.uint("from", 0)
	var to uint64
	if aerr == nil {
		to, aerr = q.uint("to", 0)
	}
	if aerr != nil {
		s.fail(w, r, aerr)
		return
	}
	ctx := r.Context()
	h, err := s.log.Head(ctx)
	if err != nil {
		s.fail(w, r, storeError(err))
		return
	}
	if !q.has("to") {
		to = h.Size
	}
	switch {
	case to > h.Size:
		s.fail(w, r, badRequest("to", "the log has %d entries, fewer than %d", h.Size, to))
		return
	case from > to:
		s.fail(w, r, badRequest("from", "%d is after to (%d)", from, to))
		return
	}
	p, err := proveTree(ctx, s.log, from, to)
	if err != nil {
		s.fail(w, r, storeError(err))
		return
	}
	resp := ConsistencyResponse{OldSize: from, NewSize: to, Proof: p}
	if from > 0 {
		resp.OldCheckpoint, _ = s.checkpointAt(ctx, from, h.Size, h.Checkpoint.Note)
	}
	if to > 0 {
		resp.NewCheckpoint, _ = s.checkpointAt(ctx, to, h.Size, h.Checkpoint.Note)
	}
	writeJSON(w, resp)
}

// proveTree is tlog.ProveTree, with the empty proof for an empty old tree
// (a prefix of every tree) and for two equal sizes.
func proveTree(ctx context.Context, l *sealog.Log, old, new uint64) (tlog.TreeProof, error) {
	if old == 0 || old == new {
		return tlog.TreeProof{}, nil
	}
	return tlog.ProveTree(int64(new), int64(old), l.HashReader(ctx))
}
