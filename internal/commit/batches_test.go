package commit

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/store/memstore"
)

// stagingStore makes a memstore a store.Stager, as the file store is:
// Stage orders the batch at once, and its wait returns after delay (the
// fsync), or fails with ErrPoisoned from the batch ending at poisonAt on.
type stagingStore struct {
	*memstore.Store
	delay    time.Duration
	poisonAt uint64

	mu        sync.Mutex
	durable   map[uint64]bool // batch ends whose wait returned nil
	staged    int             // staged, not yet waited for
	maxStaged int
}

func (s *stagingStore) Stage(ctx context.Context, b *store.Batch) (func() (store.Head, error), error) {
	h, err := s.Store.Append(ctx, b)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.staged++
	s.maxStaged = max(s.maxStaged, s.staged)
	s.mu.Unlock()
	end := b.Size()
	return func() (store.Head, error) {
		time.Sleep(s.delay)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.staged--
		if s.poisonAt != 0 && end >= s.poisonAt {
			return h, store.ErrPoisoned
		}
		s.durable[end] = true
		return h, nil
	}, nil
}

func (s *stagingStore) isDurable(end uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.durable[end]
}

// With a Stager the next batch is staged while the previous one waits
// for its fsync (two in flight, never more), and no caller is answered
// before the wait of its batch returned.
func TestStagedPipeline(t *testing.T) {
	signer, v, meta := newSigner(t)
	db := memstore.NewDB(meta)
	st := &stagingStore{Store: db.Open(), delay: 2 * time.Millisecond, durable: map[uint64]bool{}}
	c := start(t, db, signer, Config{})
	c.cfg.Store = st // before any request: the engine reads cfg.Store per batch
	var wg sync.WaitGroup
	var answered atomic.Int64
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				r, err := submit(t, c, events(1), nil)
				if err != nil {
					t.Error(err)
					return
				}
				if !st.isDurable(r.Size) {
					t.Errorf("entry %d answered before its batch (ending at %d) was durable", r.First, r.Size)
				}
				answered.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := checkLog(t, db, v); n != 320 || answered.Load() != 320 {
		t.Fatalf("log has %d entries, %d answered; want 320", n, answered.Load())
	}
	if st.maxStaged != 2 {
		t.Fatalf("at most %d batches were in flight at once, want 2 (one in its fsync, one staged)", st.maxStaged)
	}
}

// A wait that fails poisons the engine: that batch's callers and the
// staged one's get the error, later appends fail at once.
func TestStagedWaitFailure(t *testing.T) {
	signer, _, meta := newSigner(t)
	db := memstore.NewDB(meta)
	st := &stagingStore{Store: db.Open(), delay: time.Millisecond, poisonAt: 5, durable: map[uint64]bool{}}
	c := start(t, db, signer, Config{})
	c.cfg.Store = st
	if _, err := submit(t, c, events(4), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := submit(t, c, events(2), nil); !errors.Is(err, store.ErrPoisoned) {
		t.Fatalf("append whose wait fails: %v", err)
	}
	if _, err := c.Submit(context.Background(), events(1), nil); !errors.Is(err, store.ErrPoisoned) {
		t.Fatalf("submit after a failed wait: %v", err)
	}
}
