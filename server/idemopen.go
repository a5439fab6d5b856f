package server

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/sealog/sealog/store"
)

// openIdem opens the idempotency store kept in the journal at path (in
// memory only if path is empty). Recovery is the normal path: the
// journal is replayed, each key begun and not settled (a crash between
// the log's commit and the done record) is settled by looking for its
// events in the log after the size it recorded, expired keys are
// dropped, and the journal is rewritten with what is left.
func openIdem(ctx context.Context, path string, max int, ttl time.Duration, st store.Store, lg *slog.Logger, now time.Time) (*idemStore, error) {
	s := &idemStore{max: max, ttl: ttl, log: lg, keys: make(map[string]*idemEntry)}
	if path == "" {
		return s, nil
	}
	recs, err := readJournal(path)
	if err != nil {
		return nil, err
	}
	var begun []string
	for _, r := range recs {
		switch r.Op {
		case "begin":
			s.keys[r.Key] = &idemEntry{req: r.Req, head: r.Head, n: r.N, from: r.From, t: time.Unix(r.Time, 0), pending: make(chan struct{})}
			s.order = append(s.order, r.Key)
			begun = append(begun, r.Key)
		case "done":
			if e := s.keys[r.Key]; e != nil && !e.done {
				e.done, e.first, e.size = true, r.First, r.Size
				close(e.pending)
			}
		case "abort":
			delete(s.keys, r.Key)
		}
	}
	h, err := st.Head(ctx)
	if err != nil {
		return nil, fmt.Errorf("idempotency journal: reading the log's head: %w", err)
	}
	claimed := map[uint64]bool{}
	for _, k := range begun {
		e := s.keys[k]
		if e == nil || e.done || e.n == 0 {
			continue
		}
		first, ok, err := findRun(ctx, st, e.from, h.Size, e.req, e.head, e.n, claimed)
		if err != nil {
			return nil, fmt.Errorf("idempotency journal: settling a key: %w", err)
		}
		if !ok {
			lg.Info("idempotency key settled: its request was not committed before the crash", "from", e.from, "events", e.n)
			delete(s.keys, k)
			continue
		}
		size, err := st.BatchEnd(ctx, first+e.n)
		if err != nil {
			return nil, fmt.Errorf("idempotency journal: settling a key: %w", err)
		}
		for i := range e.n {
			claimed[first+i] = true
		}
		e.done, e.first, e.size = true, first, size
		close(e.pending)
		lg.Info("idempotency key settled: its request was committed before the crash", "first", first, "events", e.n)
	}
	for k, e := range s.keys {
		if now.Sub(e.t) > ttl {
			delete(s.keys, k)
		}
	}
	s.mu.Lock()
	s.evictLocked()
	s.mu.Unlock()
	logf := func(msg string, err error) { lg.Error(msg, "err", err) }
	if s.j, err = openJournal(path, 2*max+10000, s.records, logf); err != nil {
		return nil, err
	}
	return s, nil
}

// close flushes the journal durably and closes it.
func (s *idemStore) close() error {
	if s.j == nil {
		return nil
	}
	return s.j.close()
}
