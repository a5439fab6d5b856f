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

// Concurrent single-event callers get dense, distinct seqs, gathered into
// fewer batches than entries, and the log reads back whole.
func TestConcurrentGathered(t *testing.T) {
	signer, v, meta := newSigner(t)
	db := memstore.NewDB(meta)
	c := start(t, db, signer, Config{})
	const callers, each = 16, 40
	seen := make([]atomic.Bool, callers*each)
	appendConcurrently(t, c, callers, each, func(r Result) {
		if seen[r.First].Swap(true) {
			t.Errorf("seq %d given twice", r.First)
		}
	})
	if n := checkLog(t, db, v); n != callers*each {
		t.Fatalf("log has %d entries, want %d", n, callers*each)
	}
	st := c.Stats()
	if st.Entries.Load() != callers*each || st.Batches.Load() >= callers*each {
		t.Fatalf("%d entries in %d batches: nothing was gathered", st.Entries.Load(), st.Batches.Load())
	}
	t.Logf("%d entries in %d batches", st.Entries.Load(), st.Batches.Load())
}

// A failed signature fails that batch's callers and rolls the tree back:
// the next batch continues where the failed one started, with no gap.
func TestSignFailureRollsBack(t *testing.T) {
	signer, v, meta := newSigner(t)
	db := memstore.NewDB(meta)
	c := start(t, db, signer, Config{})
	if _, err := submit(t, c, events(2), nil); err != nil {
		t.Fatal(err)
	}
	signer.fail.Store(1)
	if _, err := submit(t, c, events(3), nil); err == nil || !errors.Is(err, err) || c.failure() != nil {
		t.Fatalf("signing failure: %v (engine failure %v)", err, c.failure())
	}
	r, err := submit(t, c, events(1), nil)
	if err != nil || r.First != 2 {
		t.Fatalf("after a signing failure: first %d, %v; want 2", r.First, err)
	}
	if n := checkLog(t, db, v); n != 3 {
		t.Fatalf("log has %d entries, want 3", n)
	}
}

// ErrPoisoned stops the engine: the batch fails, later appends fail at
// once, nothing more is written.
func TestPoisonedFailStop(t *testing.T) {
	signer, v, meta := newSigner(t)
	db := memstore.NewDB(meta)
	c := start(t, db, signer, Config{})
	if _, err := submit(t, c, events(1), nil); err != nil {
		t.Fatal(err)
	}
	db.FailAppend(func(*store.Batch) error { return store.ErrPoisoned })
	if _, err := submit(t, c, events(1), nil); !errors.Is(err, store.ErrPoisoned) {
		t.Fatalf("append on a poisoned store: %v", err)
	}
	db.FailAppend(nil)
	if _, err := c.Submit(context.Background(), events(1), nil); !errors.Is(err, store.ErrPoisoned) {
		t.Fatalf("submit after the store was poisoned: %v", err)
	}
	if n := checkLog(t, db, v); n != 1 {
		t.Fatalf("log has %d entries, want 1", n)
	}
}

// A batch that loses a race with another writer is re-sequenced after the
// winner's entries and committed; the conflict is counted, the log has no
// gap and no fork.
func TestConflictResequences(t *testing.T) {
	signer, v, meta := newSigner(t)
	db := memstore.NewDB(meta)
	a := start(t, db, signer, Config{})
	b := start(t, db, signer, Config{})
	var first atomic.Bool
	first.Store(true)
	var bErr error
	var bRes Result
	db.FailAppend(func(batch *store.Batch) error {
		// A's first append: let B commit first. (B's append calls this
		// hook too, and goes through.)
		if first.Swap(false) {
			bRes, bErr = submit(t, b, events(2), nil)
		}
		return nil
	})
	ra, err := submit(t, a, events(3), nil)
	if err != nil || bErr != nil {
		t.Fatalf("a: %v, b: %v", err, bErr)
	}
	if bRes.First != 0 || ra.First != 2 || ra.Size != 5 {
		t.Fatalf("b got seq %d, a got seq %d (size %d); want 0 and 2 (5)", bRes.First, ra.First, ra.Size)
	}
	if got := a.Stats().Conflicts.Load(); got != 1 {
		t.Fatalf("%d conflicts counted, want 1", got)
	}
	// A's next batch, prepared on its stale view, is rebuilt too.
	r, err := submit(t, a, events(1), nil)
	if err != nil || r.First != 5 {
		t.Fatalf("a's next append: %d, %v", r.First, err)
	}
	if n := checkLog(t, db, v); n != 6 {
		t.Fatalf("log has %d entries, want 6", n)
	}
}

// Two engines appending to one store at once: no gap, no fork, every
// acknowledged entry is in the store at its seq with its leaf.
func TestTwoWritersInterleave(t *testing.T) {
	signer, v, meta := newSigner(t)
	db := memstore.NewDB(meta)
	engines := []*Committer{start(t, db, signer, Config{}), start(t, db, signer, Config{})}
	var mu sync.Mutex
	acked := map[uint64]Result{}
	var wg sync.WaitGroup
	for _, c := range engines {
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 30; i++ {
					r, err := submit(t, c, events(1+i%3), nil)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					acked[r.First] = r
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	n := checkLog(t, db, v)
	st := db.Open()
	total := 0
	for first, r := range acked {
		for i, leaf := range r.Leaves {
			l, err := st.ReadLine(context.Background(), first+uint64(i))
			if err != nil || l.Leaf != leaf {
				t.Fatalf("acknowledged entry %d is not in the store: %v", first+uint64(i), err)
			}
			total++
		}
	}
	if uint64(total) != n {
		t.Fatalf("%d entries acknowledged, %d in the log", total, n)
	}
	t.Logf("%d entries, conflicts: %d and %d", n, engines[0].Stats().Conflicts.Load(), engines[1].Stats().Conflicts.Load())
}

// An append that commits but reports an error is settled by reading the
// store back: the caller gets its receipt. One that fails before
// committing gets the error, and the log goes on without a gap.
func TestUnknownOutcomeSettled(t *testing.T) {
	signer, v, meta := newSigner(t)
	db := memstore.NewDB(meta)
	c := start(t, db, signer, Config{})
	var calls atomic.Int64
	db.FailAppend(func(*store.Batch) error {
		switch calls.Add(1) {
		case 1:
			return memstore.AfterCommit(errors.New("connection reset after COMMIT"))
		case 2:
			return errors.New("connection reset before COMMIT")
		}
		return nil
	})
	r, err := submit(t, c, events(2), nil)
	if err != nil || r.First != 0 {
		t.Fatalf("committed despite an error: %d, %v", r.First, err)
	}
	if _, err := submit(t, c, events(1), nil); err == nil {
		t.Fatal("an append that was not committed reported success")
	}
	r, err = submit(t, c, events(1), nil)
	if err != nil || r.First != 2 {
		t.Fatalf("after a failed append: %d, %v; want 2", r.First, err)
	}
	if n := checkLog(t, db, v); n != 3 {
		t.Fatalf("log has %d entries, want 3", n)
	}
}

// Shutdown drains: every request submitted before it is answered with a
// receipt, and later ones get ErrClosed.
func TestShutdownDrains(t *testing.T) {
	signer, v, meta := newSigner(t)
	db := memstore.NewDB(meta)
	c := start(t, db, signer, Config{})
	var futures []*Future
	for i := 0; i < 200; i++ {
		f, err := c.Submit(context.Background(), events(1), nil)
		if err != nil {
			t.Fatal(err)
		}
		futures = append(futures, f)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for i, f := range futures {
		select {
		case <-f.Done():
		default:
			t.Fatalf("request %d not answered after Shutdown", i)
		}
		if _, err := f.Result(); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if _, err := c.Submit(context.Background(), events(1), nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("submit after Shutdown: %v", err)
	}
	if n := checkLog(t, db, v); n != 200 {
		t.Fatalf("log has %d entries, want 200", n)
	}
}

// Past MaxPending, Submit fails at once with ErrOverloaded.
func TestOverloaded(t *testing.T) {
	signer, _, meta := newSigner(t)
	db := memstore.NewDB(meta)
	c := start(t, db, signer, Config{MaxPending: 2})
	release := make(chan struct{})
	db.FailAppend(func(*store.Batch) error { <-release; return nil })
	var fs []*Future
	for i := 0; i < 2; i++ {
		f, err := c.Submit(context.Background(), events(1), nil)
		if err != nil {
			t.Fatal(err)
		}
		fs = append(fs, f)
	}
	if _, err := c.Submit(context.Background(), events(1), nil); !errors.Is(err, ErrOverloaded) {
		t.Fatalf("third submit with MaxPending 2: %v", err)
	}
	close(release)
	for _, f := range fs {
		if _, err := f.Result(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := submit(t, c, events(1), nil); err != nil {
		t.Fatalf("after the load went away: %v", err)
	}
}

// A store append that hangs past CommitTimeout fails the batch instead of
// blocking its callers forever.
func TestCommitTimeout(t *testing.T) {
	signer, _, meta := newSigner(t)
	db := memstore.NewDB(meta)
	c := start(t, db, signer, Config{CommitTimeout: 50 * time.Millisecond})
	st := &slowStore{Store: db.Open(), delay: time.Second}
	c.cfg.Store = st
	start := time.Now()
	if _, err := submit(t, c, events(1), nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("append past the timeout: %v", err)
	}
	if d := time.Since(start); d > 900*time.Millisecond {
		t.Fatalf("the caller waited %s", d)
	}
}

// slowStore delays Append until its context ends (or delay passes).
type slowStore struct {
	store.Store
	delay time.Duration
}

func (s *slowStore) Append(ctx context.Context, b *store.Batch) (store.Head, error) {
	select {
	case <-ctx.Done():
		return store.Head{}, ctx.Err()
	case <-time.After(s.delay):
	}
	return s.Store.Append(ctx, b)
}
