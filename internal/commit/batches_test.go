package commit

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/store/memstore"
)

// fsyncStore is a memstore whose Append takes delay (an fsync) and that
// records how many appends ran at once and which batches had returned.
type fsyncStore struct {
	*memstore.Store
	delay time.Duration

	mu       sync.Mutex
	running  int
	most     int
	returned map[uint64]bool // batch ends whose Append returned
}

func (s *fsyncStore) Append(ctx context.Context, b *store.Batch) (store.Head, error) {
	s.mu.Lock()
	s.running++
	s.most = max(s.most, s.running)
	s.mu.Unlock()
	h, err := s.Store.Append(ctx, b)
	time.Sleep(s.delay)
	s.mu.Lock()
	s.running--
	if err == nil {
		s.returned[b.Size()] = true
	}
	s.mu.Unlock()
	return h, err
}

func (s *fsyncStore) hasReturned(end uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.returned[end]
}

// One batch is in the store at a time, no caller is answered before the
// append of its batch returned, and callers that come back while a batch
// commits are gathered into few batches, not one each.
func TestOneBatchAtATime(t *testing.T) {
	signer, v, meta := newSigner(t)
	db := memstore.NewDB(meta)
	st := &fsyncStore{Store: db.Open(), delay: 5 * time.Millisecond, returned: map[uint64]bool{}}
	c := start(t, db, signer, Config{Store: st})
	const callers, each = 16, 20
	var answered atomic.Int64
	appendConcurrently(t, c, callers, each, func(r Result) {
		if !st.hasReturned(r.Size) {
			t.Errorf("entry %d answered before the append of its batch (ending at %d) returned", r.First, r.Size)
		}
		answered.Add(1)
	})
	if n := checkLog(t, db, v); n != callers*each || answered.Load() != callers*each {
		t.Fatalf("log has %d entries, %d answered; want %d", n, answered.Load(), callers*each)
	}
	if st.most != 1 {
		t.Fatalf("%d appends ran at once, want 1", st.most)
	}
	// Each caller waits for one 5 ms append per entry at most (it joins
	// the batch after the one it missed), so 20 rounds of 16 callers
	// take at most 2 batches per round however the gathering goes.
	if b := c.Stats().Batches.Load(); b > 2*each+2 {
		t.Fatalf("%d batches for %d rounds of %d callers: callers were not gathered", b, each, callers)
	}
}
