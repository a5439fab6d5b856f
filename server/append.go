package server

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/checkpoint"
)

// Headers of POST /v1/entries.
const (
	// IdempotencyKeyHeader names a request so that a retry returns the
	// first request's receipts instead of appending again.
	IdempotencyKeyHeader = "Idempotency-Key"
	// ConsistencyFromHeader asks for a consistency proof between the tree
	// of the given size (the client's last trusted checkpoint) and the
	// receipts' checkpoint.
	ConsistencyFromHeader = "Sealog-Consistency-From"
	// TlogProofType is the media type of C2SP tlog-proof text, for Accept.
	TlogProofType = "text/x-tlog-proof"
)

// handleAppend serves POST /v1/entries.
func (s *Server) handleAppend(w http.ResponseWriter, r *http.Request, tok TokenInfo) {
	if s.closing.Load() {
		s.fail(w, r, errShuttingDown)
		return
	}
	asText, aerr := wantText(r, "format")
	if aerr != nil {
		s.fail(w, r, aerr)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && ct != "application/json" { // the common one, without parsing
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			s.fail(w, r, &apiError{status: http.StatusUnsupportedMediaType, code: "bad_request", field: "Content-Type", msg: "the body must be application/json (with curl: -H 'Content-Type: application/json')"})
			return
		}
	}
	key := r.Header.Get(IdempotencyKeyHeader)
	if err := checkKey(key); err != nil {
		s.fail(w, r, err)
		return
	}
	var from uint64
	hasFrom := false
	if v := r.Header.Get(ConsistencyFromHeader); v != "" {
		n, err := strconv.ParseUint(v, 10, 63)
		if err != nil {
			s.fail(w, r, badRequest(ConsistencyFromHeader, "must be a tree size (a decimal number)"))
			return
		}
		from, hasFrom = n, true
	}
	body, err := readBody(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.fail(w, r, &apiError{status: http.StatusRequestEntityTooLarge, code: "body_too_large", msg: "the body is over the " + strconv.FormatInt(s.cfg.MaxBodyBytes, 10) + "-byte limit: split the request"})
			return
		}
		s.fail(w, r, badRequest("", "reading the body: %v", err))
		return
	}
	req, aerr := parseEvents(body, s.cfg.MaxEvents, s.cfg.MaxDepth, s.cfg.MaxEventSize)
	if aerr != nil {
		s.fail(w, r, aerr)
		return
	}
	b, aerr := s.commit(r.Context(), tok, key, req)
	if aerr != nil {
		s.fail(w, r, aerr)
		return
	}
	b = s.witnessed(r.Context(), b)
	rs, err := s.receipts(r.Context(), b)
	if err != nil {
		s.fail(w, r, internalError("the events were committed (entries %d to %d), but reading their receipts failed: %v", b.first, b.first+b.n-1, err))
		return
	}
	if asText {
		list := make([]Receipt, rs.len())
		for i := range list {
			list[i] = rs.receipt(i)
		}
		rs.release()
		writeBytes(w, TlogProofType+"; charset=utf-8", appendTlogProofs(nil, list))
		return
	}
	var c *ConsistencyProof
	if hasFrom {
		c = s.consistency(r.Context(), from, b.ck.Size)
	}
	buf := getBuffer(receiptsSize(rs))
	*buf = appendReceiptsJSON((*buf)[:0], rs, c)
	rs.release()
	writeBytes(w, "application/json", *buf)
	putBuffer(buf)
}

// bufPool holds response buffers: a batch's receipts take about 1.5 KB
// an event.
var bufPool sync.Pool

// getBuffer returns an empty buffer of at least n bytes' capacity.
func getBuffer(n int) *[]byte {
	if b, ok := bufPool.Get().(*[]byte); ok && cap(*b) >= n {
		return b
	}
	b := make([]byte, 0, n)
	return &b
}

// putBuffer returns b to the pool, unless it is very large.
func putBuffer(b *[]byte) {
	if cap(*b) <= 8<<20 {
		*b = (*b)[:0]
		bufPool.Put(b)
	}
}

// commit appends req's events, or, for a key seen before, finds the
// entries its first request got. It returns the entries' batch.
func (s *Server) commit(ctx context.Context, tok TokenInfo, key string, req *request) (batch, *apiError) {
	var kid string
	if key != "" {
		kid = keyID(tok.ID, key)
		dig, head := digest(req.canon)
		h, err := s.st.Head(ctx)
		if err != nil {
			return batch{}, storeError(err)
		}
		e, aerr := s.idem.begin(ctx, kid, dig, head, uint64(len(req.events)), h.Size, s.cfg.Clock())
		if aerr != nil {
			return batch{}, aerr
		}
		if e != nil {
			return s.replay(ctx, e)
		}
	}
	start := time.Now()
	p, err := s.log.Submit(ctx, req.events)
	if err != nil {
		if kid != "" {
			s.idem.abort(kid)
		}
		if errors.Is(err, sealog.ErrOverloaded) || errors.Is(err, sealog.ErrClosed) || ctx.Err() != nil {
			return batch{}, submitError(err)
		}
		// Submit checks the events before anything is written.
		return batch{}, badRequest("", "the log refused the events: %v", err)
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.CommitTimeout)
	defer cancel()
	rs, err := p.Wait(wctx)
	if err != nil && wctx.Err() != nil {
		// The commit goes on: settle the key when it ends.
		go func() {
			<-p.Done()
			rs, err := p.Wait(context.Background())
			s.settle(kid, rs, err)
		}()
		return batch{}, &apiError{status: http.StatusServiceUnavailable, code: "commit_unknown", retryAfter: 1,
			msg: "the commit is taking too long; its outcome is not known yet: retry with the same Idempotency-Key"}
	}
	s.settle(kid, rs, err)
	if err != nil {
		return batch{}, submitError(err)
	}
	s.m.commitLatency.Observe(time.Since(start).Seconds())
	s.m.appended.Add(float64(len(rs)))
	s.m.requestEvents.Observe(float64(len(rs)))
	note := []byte(rs[0].Checkpoint)
	c, err := checkpoint.ParseUnverified(note)
	if err != nil {
		return batch{}, internalError("the log returned a malformed checkpoint: %v", err)
	}
	leaves := make([]tlog.Hash, len(rs))
	for i := range rs {
		leaves[i] = rs[i].LeafHash
	}
	b := batch{first: rs[0].Seq, n: uint64(len(rs)), ckNote: note, ck: c, pending: p, leaves: leaves,
		time: rs[0].Time.UnixNano(), end: c.Size}
	if b.first+b.n == c.Size {
		// The last entry ends the store batch: its line carries the
		// checkpoint's signature (docs/FORMAT.md §6.2).
		if b.sig, err = lineSig(note, c.Origin); err != nil {
			return batch{}, internalError("the log returned a checkpoint without its signature: %v", err)
		}
	}
	return b, nil
}

// lineSig returns the log's signature of a checkpoint note as a batch's
// last line carries it: key hash and signature.
func lineSig(note []byte, origin string) ([]byte, error) {
	n, err := checkpoint.ParseNote(note)
	if err != nil {
		return nil, err
	}
	for _, sg := range n.Sigs {
		if sg.Name == origin {
			return append(binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(sg.Sig)), sg.KeyHash), sg.Sig...), nil
		}
	}
	return nil, fmt.Errorf("no signature by %q", origin)
}

// settle records the outcome of a keyed append.
func (s *Server) settle(kid string, rs []sealog.Receipt, err error) {
	if kid == "" {
		return
	}
	if err != nil {
		s.idem.abort(kid)
		return
	}
	c, cerr := checkpoint.ParseUnverified([]byte(rs[0].Checkpoint))
	if cerr != nil {
		s.idem.abort(kid)
		return
	}
	s.idem.finish(kid, rs[0].Seq, c.Size, s.cfg.Clock())
}

// replay returns the batch a keyed request got the first time.
func (s *Server) replay(ctx context.Context, e *idemEntry) (batch, *apiError) {
	ck, err := s.log.CheckpointAt(ctx, e.size)
	if err != nil {
		return batch{}, internalError("the receipts of this Idempotency-Key's request (entries %d to %d): %v", e.first, e.first+e.n-1, err)
	}
	c := checkpoint.Checkpoint{Origin: ck.Origin, Size: ck.Size, Root: ck.Root}
	return batch{first: e.first, n: e.n, ckNote: ck.Note, ck: c}, nil
}

// consistency returns the proof between sizes a and b, in either order,
// or nil if the log cannot give one (a size beyond its head).
func (s *Server) consistency(ctx context.Context, a, b uint64) *ConsistencyProof {
	old, new := min(a, b), max(a, b)
	h, err := s.st.Head(ctx)
	if err != nil || new > h.Size {
		return nil
	}
	p, err := proveTree(ctx, s.log, old, new)
	if err != nil {
		return nil
	}
	return &ConsistencyProof{Old: old, New: new, Proof: p}
}

// checkKey checks an Idempotency-Key: 1 to 128 printable ASCII
// characters.
func checkKey(k string) *apiError {
	if len(k) > 128 {
		return badRequest(IdempotencyKeyHeader, "longer than 128 characters")
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return badRequest(IdempotencyKeyHeader, "must be printable ASCII without spaces (a UUID, say)")
		}
	}
	return nil
}

// submitError maps an error of Submit or Wait to an answer.
func submitError(err error) *apiError {
	switch {
	case errors.Is(err, sealog.ErrOverloaded):
		return errOverloaded
	case errors.Is(err, sealog.ErrClosed):
		return errShuttingDown
	case errors.Is(err, sealog.ErrPoisoned):
		return &apiError{status: http.StatusServiceUnavailable, code: "unavailable", retryAfter: 5,
			msg: "the store failed to make a write durable; the log must be reopened"}
	}
	return storeError(err)
}

func storeError(err error) *apiError {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &apiError{status: http.StatusServiceUnavailable, code: "unavailable", msg: err.Error(), retryAfter: 1}
	}
	if errors.Is(err, sealog.ErrPruned) {
		return notFound("%v (docs/FORMAT.md §13)", err)
	}
	return internalError("%v", err)
}

// readBody reads the request body, at most limit bytes, in one
// allocation when the client said its length.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	rd := http.MaxBytesReader(w, r.Body, limit)
	if n := r.ContentLength; n > 0 && n <= limit {
		buf := make([]byte, n+1) // +1: a body longer than announced is an error
		m, err := io.ReadFull(rd, buf)
		if err == io.ErrUnexpectedEOF && int64(m) == n {
			return buf[:m], nil
		}
		if err == nil {
			return nil, errors.New("the body is longer than its Content-Length")
		}
		return nil, err
	}
	return io.ReadAll(rd)
}
