package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/store"
)

// testSharedHead: each of two handles on one log sees the other's appends
// in its next Head, and can read them and append after them.
func testSharedHead(t *testing.T, ctx context.Context, open Opener) {
	a, b := open(t), open(t)
	defer a.Close()
	defer b.Close()
	wa, wb := NewBuilder("a"), NewBuilder("b")
	var all [][]byte
	for round := range 4 {
		batch := wa.Batch(round + 1)
		all = append(all, lines(batch)...)
		checkLog(t, ctx, b, mustAppend(t, ctx, a, batch), all)
		if err := wb.Load(ctx, b); err != nil {
			t.Fatal(err)
		}
		batch = wb.Batch(2)
		all = append(all, lines(batch)...)
		checkLog(t, ctx, a, mustAppend(t, ctx, b, batch), all)
		if err := wa.Load(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
}

// testSharedClose: closing one handle leaves the others open.
func testSharedClose(t *testing.T, ctx context.Context, open Opener) {
	a, b := open(t), open(t)
	defer b.Close()
	w := NewBuilder("w")
	all := appendBatches(t, ctx, a, w, 3)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	checkLog(t, ctx, b, w.Head(), all)
	all = append(all, appendBatches(t, ctx, b, w, 2)...)
	if _, err := a.Head(ctx); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("Head on the closed handle: %v, want ErrClosed", err)
	}
	c := open(t)
	defer c.Close()
	checkLog(t, ctx, c, w.Head(), all)
}

// testSharedWriters: two writers, each with its own handle, append
// concurrently, re-sequencing their events on every conflict as the Log
// does. Afterwards the log has no gap and no fork, and every event of
// each writer exactly once.
func testSharedWriters(t *testing.T, ctx context.Context, open Opener) {
	const writers, events = 2, 60
	var (
		s [writers]store.Store
		w [writers]*Builder
	)
	for i := range s {
		s[i] = open(t)
		defer s[i].Close()
		w[i] = NewBuilder(fmt.Sprintf("w%d", i))
	}

	// First a conflict for sure: both build at the empty head, one loses.
	b0, b1 := w[0].Batch(1), w[1].Batch(1)
	h := mustAppend(t, ctx, s[0], b0)
	_, err := s[1].Append(ctx, b1)
	if ce := isConflict(err); ce == nil || !sameHead(ce.Head, h) {
		t.Fatalf("Append on the second handle of a batch built on the empty head: %v, want a conflict with the first handle's head", err)
	}
	retry, err := w[1].Retry(ctx, s[1])
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, ctx, s[1], retry)

	var conflicts atomic.Int64
	start := make(chan struct{})
	errs := make(chan error, writers)
	for i := range s {
		go func() {
			<-start
			errs <- write(ctx, s[i], w[i], events-1, i, &conflicts)
		}()
	}
	close(start)
	for range s {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("%d conflicts", conflicts.Load())

	v, err := readLog(ctx, s[0], head(t, ctx, s[0]))
	if err != nil {
		t.Fatal(err)
	}
	seen := make(map[string]int)
	for seq, p := range v.parsed {
		ev, err := format.ParseEvent(p.Event)
		if err != nil {
			t.Fatalf("entry %d: %v", seq, err)
		}
		seen[ev.Resource]++
	}
	for i := range writers {
		for k := range events {
			if r := fmt.Sprintf("w%d/%d", i, k); seen[r] != 1 {
				t.Errorf("event %s is in the log %d times, want once", r, seen[r])
			}
		}
	}
	if len(v.lines) != writers*events {
		t.Fatalf("the log has %d entries, want %d", len(v.lines), writers*events)
	}
}

// write appends n events from w to s in batches of 1 to 5, retrying each
// batch after the new head on a conflict.
func write(ctx context.Context, s store.Store, w *Builder, n, writer int, conflicts *atomic.Int64) error {
	for k := 0; n > 0; k++ {
		batch := w.Batch(min(n, 1+(7*k+writer)%5))
		for {
			h, err := s.Append(ctx, batch)
			if isConflict(err) != nil {
				conflicts.Add(1)
				if batch, err = w.Retry(ctx, s); err != nil {
					return err
				}
				continue
			}
			if err != nil {
				return fmt.Errorf("writer %d: Append at %d: %w", writer, batch.First, err)
			}
			if !sameHead(h, batch.Head()) {
				return fmt.Errorf("writer %d: Append returned head %+v, want the batch's", writer, h)
			}
			break
		}
		n -= len(batch.Ends)
	}
	return nil
}
