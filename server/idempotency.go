package server

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/store"
)

// idemStore remembers, for each Idempotency-Key (scoped to its token),
// the request it came with and the entries that request got, so that a
// retry gets the first receipts and never appends twice. It is bounded
// (the oldest keys are forgotten past max, and keys older than ttl
// expire) and, with a journal, survives restarts and crashes.
type idemStore struct {
	max int
	ttl time.Duration
	j   *journal // nil: in memory only
	log *slog.Logger

	mu    sync.Mutex // guards keys, order, claims and lastExpire
	keys  map[string]*idemEntry
	order []string // keys in the order they began, for eviction

	// shared, if not nil, keeps the keys for every server of the log
	// (idemshared.go); keys, order and j are then unused.
	shared        store.IdempotencyKeys
	st            store.Store
	commitTimeout time.Duration
	claims        map[string]time.Time // keys this server claimed, not settled yet
	lastExpire    time.Time
}

// idemEntry is one key's state.
type idemEntry struct {
	req, head string
	n, from   uint64
	t         time.Time
	// pending is closed when the append settles (done or aborted); a
	// retry that arrives meanwhile waits for it.
	pending chan struct{}
	done    bool
	first   uint64
	size    uint64
}

// digest returns the request digest (SHA-256 over each canonical event,
// length-prefixed) and the digest of its first event.
func digest(canon [][]byte) (req, head string) {
	h := sha256.New()
	for _, c := range canon {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(c)))
		h.Write(n[:])
		h.Write(c)
	}
	first := sha256.Sum256(canon[0])
	return hex.EncodeToString(h.Sum(nil)), hex.EncodeToString(first[:])
}

// keyID scopes an Idempotency-Key to a token.
func keyID(tokenID, key string) string {
	s := sha256.Sum256([]byte(tokenID + "\x00" + key))
	return hex.EncodeToString(s[:])
}

// begin claims key for a request. It returns (nil, nil) if the caller
// now owns the key and must append then call finish or abort; the
// settled entry if the key was used before by the same request; or an
// error: the key was used with another request, or ctx ended while
// another request with the key was in flight.
func (s *idemStore) begin(ctx context.Context, key, req, head string, n, from uint64, now time.Time) (*idemEntry, *apiError) {
	if s.shared != nil {
		return s.sharedBegin(ctx, key, req, head, n, from, now)
	}
	for {
		s.mu.Lock()
		e, ok := s.keys[key]
		if ok && e.done && now.Sub(e.t) > s.ttl {
			delete(s.keys, key)
			ok = false
		}
		if !ok {
			e = &idemEntry{req: req, head: head, n: n, from: from, t: now, pending: make(chan struct{})}
			s.keys[key] = e
			s.order = append(s.order, key)
			s.evictLocked()
			s.mu.Unlock()
			if s.j != nil {
				err := s.j.write(idemRecord{Op: "begin", Key: key, Req: req, Head: head, N: n, From: from, Time: now.Unix()}, true)
				if err != nil {
					s.abort(key)
					return nil, internalError("recording the idempotency key: %v", err)
				}
			}
			return nil, nil
		}
		done := e.done // finish sets it under mu
		s.mu.Unlock()
		if e.req != req {
			return nil, &apiError{status: 422, code: "idempotency_mismatch", field: "Idempotency-Key",
				msg: "this key was used before with a different request body; use a new key for a new request"}
		}
		if done {
			return e, nil
		}
		select {
		case <-e.pending:
		case <-ctx.Done():
			return nil, &apiError{status: 409, code: "idempotency_in_flight", field: "Idempotency-Key",
				msg: "a request with this key is still being committed; retry", retryAfter: 1}
		}
	}
}

// finish records that key's request got entries [first, first+n) in the
// batch whose checkpoint has size entries.
func (s *idemStore) finish(key string, first, size uint64, now time.Time) {
	if s.shared != nil {
		s.sharedFinish(key, first, size)
		return
	}
	s.mu.Lock()
	e := s.keys[key]
	if e != nil && !e.done {
		e.done, e.first, e.size = true, first, size
		close(e.pending)
	}
	s.mu.Unlock()
	if s.j != nil {
		s.j.write(idemRecord{Op: "done", Key: key, First: first, Size: size, Time: now.Unix()}, false)
	}
}

// abort forgets key: its request appended nothing.
func (s *idemStore) abort(key string) {
	if s.shared != nil {
		s.sharedAbort(key)
		return
	}
	s.mu.Lock()
	if e := s.keys[key]; e != nil && !e.done {
		delete(s.keys, key)
		close(e.pending)
	}
	s.mu.Unlock()
	if s.j != nil {
		s.j.write(idemRecord{Op: "abort", Key: key}, false)
	}
}

// evictLocked forgets the oldest settled keys past max (keys in flight
// stay), and drops order's stale items when they pile up.
func (s *idemStore) evictLocked() {
	for tries := len(s.order); len(s.keys) > s.max && tries > 0; tries-- {
		k := s.order[0]
		s.order = s.order[1:]
		switch e, ok := s.keys[k]; {
		case ok && e.done:
			delete(s.keys, k)
		case ok:
			s.order = append(s.order, k)
		}
	}
	if len(s.order) > 2*len(s.keys)+1024 {
		live := make([]string, 0, len(s.keys))
		seen := make(map[string]bool, len(s.keys))
		for _, k := range s.order {
			if _, ok := s.keys[k]; ok && !seen[k] {
				seen[k] = true
				live = append(live, k)
			}
		}
		s.order = live
	}
}

// records returns the live keys as journal records, oldest first.
func (s *idemStore) records() []idemRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []idemRecord
	seen := make(map[string]bool, len(s.keys))
	for _, k := range s.order {
		e, ok := s.keys[k]
		if !ok || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, idemRecord{Op: "begin", Key: k, Req: e.req, Head: e.head, N: e.n, From: e.from, Time: e.t.Unix()})
		if e.done {
			out = append(out, idemRecord{Op: "done", Key: k, First: e.first, Size: e.size, Time: e.t.Unix()})
		}
	}
	return out
}

// findRun looks in the log's entries [from, head) for n consecutive
// entries whose canonical events digest to req, starting with one that
// digests to head, skipping runs in claimed. It returns the first seq.
func findRun(ctx context.Context, st store.Store, from, end uint64, req, head string, n uint64, claimed map[uint64]bool) (uint64, bool, error) {
	var cands []uint64
	err := st.ReadLines(ctx, from, end, func(ln store.Line) error {
		l, err := format.ParseLine(ln.Bytes)
		if err != nil || l.Erased {
			return nil
		}
		s := sha256.Sum256(l.Event)
		if hex.EncodeToString(s[:]) == head && !claimed[ln.Seq] {
			cands = append(cands, ln.Seq)
		}
		return nil
	})
	if err != nil {
		return 0, false, err
	}
	for _, c := range cands {
		var canon [][]byte
		err := st.ReadLines(ctx, c, c+n, func(ln store.Line) error {
			l, err := format.ParseLine(ln.Bytes)
			if err != nil {
				return fmt.Errorf("entry %d: %w", ln.Seq, err)
			}
			canon = append(canon, append([]byte(nil), l.Event...))
			return nil
		})
		if err != nil {
			return 0, false, err
		}
		if uint64(len(canon)) == n {
			if r, _ := digest(canon); r == req {
				return c, true, nil
			}
		}
	}
	return 0, false, nil
}
