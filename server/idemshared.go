package server

import (
	"context"
	"time"

	"github.com/sealog/sealog/store"
)

// Keys shared by every server of a log (store.IdempotencyKeys, a table in
// the log's PostgreSQL schema). A key claimed by another server and not
// settled yet is in flight there: the retry gets 409 with Retry-After,
// and the client tries again. A claim older than the lease was left by a
// server that died before it could settle it: whoever meets it first
// settles it by looking for its events in the log after the size it
// recorded (findRun), and takes the key over if they are not there.

// sharedLease returns how long a claim may stay unsettled before it is
// taken for a dead server's: twice the commit timeout, after which its
// server has given up on the commit itself.
func (s *idemStore) sharedLease() time.Duration { return 2 * s.commitTimeout }

// sharedBegin is begin over shared keys.
func (s *idemStore) sharedBegin(ctx context.Context, key, req, head string, n, from uint64, now time.Time) (*idemEntry, *apiError) {
	s.expireShared(ctx, now)
	rec := store.KeyRecord{Request: req, Head: head, N: n, From: from, Claimed: now}
	for attempt := 0; attempt < 3; attempt++ {
		got, claimed, err := s.shared.ClaimKey(ctx, key, rec)
		if err != nil {
			return nil, internalError("recording the idempotency key: %v", err)
		}
		if claimed {
			s.mu.Lock()
			s.claims[key] = got.Claimed
			s.mu.Unlock()
			return nil, nil
		}
		if got.Request != req {
			return nil, &apiError{status: 422, code: "idempotency_mismatch", field: "Idempotency-Key",
				msg: "this key was used before with a different request body; use a new key for a new request"}
		}
		if got.Settled {
			return &idemEntry{req: got.Request, head: got.Head, n: got.N, from: got.From, t: got.Claimed, done: true, first: got.First, size: got.Size}, nil
		}
		if now.Sub(got.Claimed) < s.sharedLease() {
			return nil, &apiError{status: 409, code: "idempotency_in_flight", field: "Idempotency-Key",
				msg: "a request with this key is still being committed (perhaps by another server); retry", retryAfter: 1}
		}
		// A dead server's claim: settle it from the log.
		h, err := s.st.Head(ctx)
		if err != nil {
			return nil, storeError(err)
		}
		first, ok, err := findRun(ctx, s.st, got.From, h.Size, got.Request, got.Head, got.N, nil)
		if err != nil {
			return nil, internalError("settling an idempotency key: %v", err)
		}
		if ok {
			size, err := s.st.BatchEnd(ctx, first+got.N)
			if err != nil {
				return nil, storeError(err)
			}
			if err := s.shared.SettleKey(ctx, key, first, size); err != nil {
				return nil, internalError("settling an idempotency key: %v", err)
			}
			s.log.Info("idempotency key settled: another server committed its request and did not record it", "first", first, "events", got.N)
			return &idemEntry{req: req, head: head, n: n, from: got.From, t: got.Claimed, done: true, first: first, size: size}, nil
		}
		rec.From = h.Size
		took, err := s.shared.ReclaimKey(ctx, key, got.Claimed, rec)
		if err != nil {
			return nil, internalError("recording the idempotency key: %v", err)
		}
		if took {
			s.mu.Lock()
			s.claims[key] = rec.Claimed.UTC().Truncate(time.Microsecond)
			s.mu.Unlock()
			s.log.Info("idempotency key taken over: the server that claimed it did not commit its request", "events", got.N)
			return nil, nil
		}
	}
	return nil, &apiError{status: 409, code: "idempotency_in_flight", field: "Idempotency-Key",
		msg: "a request with this key is being committed by another server; retry", retryAfter: 1}
}

// sharedFinish settles key with the entries its request got.
func (s *idemStore) sharedFinish(key string, first, size uint64) {
	s.mu.Lock()
	delete(s.claims, key)
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.shared.SettleKey(ctx, key, first, size); err != nil {
		// The claim stays unsettled; a retry past the lease settles it
		// from the log.
		s.log.Error("recording an idempotency key's entries", "first", first, "error", err)
	}
}

// sharedAbort releases key: its request appended nothing.
func (s *idemStore) sharedAbort(key string) {
	s.mu.Lock()
	claimed, ok := s.claims[key]
	delete(s.claims, key)
	s.mu.Unlock()
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.shared.ReleaseKey(ctx, key, claimed); err != nil {
		s.log.Error("releasing an idempotency key", "error", err)
	}
}

// expireShared deletes the keys older than the TTL, at most once a
// minute.
func (s *idemStore) expireShared(ctx context.Context, now time.Time) {
	s.mu.Lock()
	due := now.Sub(s.lastExpire) >= time.Minute
	if due {
		s.lastExpire = now
	}
	s.mu.Unlock()
	if !due {
		return
	}
	if n, err := s.shared.ExpireKeys(ctx, now.Add(-s.ttl)); err != nil {
		s.log.Error("expiring idempotency keys", "error", err)
	} else if n > 0 {
		s.log.Info("idempotency keys expired", "keys", n)
	}
}
