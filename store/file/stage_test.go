//go:build unix

package file_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/store/file"
	"github.com/sealog/sealog/store/storetest"
)

// openStaging opens (creating) a file store in dir with the suite's key
// and small segments, so that staged batches cross rotations.
func openStaging(t *testing.T, dir string) *file.Store {
	t.Helper()
	meta := storetest.Metadata()
	s, err := file.Open(dir, file.Options{Origin: meta.Origin, Key: meta.Key, SegmentSize: 2048, Logger: logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Stage writes a batch ahead of its sync: until its wait (or a later
// one's) has synced it, no reader sees it — not Head, not ReadLine, not
// ReadLines, not ReadHashes, not BatchEnd — and the next batch is staged
// after it (a batch at the durable head is a conflict, against the staged
// head). Waits in order make everything durable; Close makes staged
// batches durable that no one waited for.
func TestStageVisibility(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "log")
	s := openStaging(t, dir)
	b := storetest.NewBuilder("stage")
	for round := 0; round < 20; round++ { // 20 rounds of 3 batches: several rotations
		h0, err := s.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		b1, b2 := b.Batch(3), b.Batch(2)
		w1, err := s.Stage(ctx, b1)
		if err != nil {
			t.Fatal(err)
		}
		w2, err := s.Stage(ctx, b2)
		if err != nil {
			t.Fatal(err)
		}
		// A batch at the durable head is stale: the staged ones come first.
		var ce *store.ConflictError
		if _, err := s.Stage(ctx, storetest.NewBuilder("late").Batch(1)); !errors.As(err, &ce) {
			t.Fatalf("a batch at seq 0 staged after %d entries: %v, want a conflict", h0.Size, err)
		}
		if ce != nil && ce.Head.Size != b2.Size() {
			t.Fatalf("the conflict carries head %d, want the staged %d", ce.Head.Size, b2.Size())
		}
		h, err := s.Head(ctx)
		if err != nil || h.Size != h0.Size {
			t.Fatalf("Head with two batches staged: %d (%v), want the durable %d", h.Size, err, h0.Size)
		}
		if _, err := s.ReadLine(ctx, b1.First); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("ReadLine of a staged entry: %v, want ErrNotFound", err)
		}
		n := 0
		if err := s.ReadLines(ctx, 0, b2.Size(), func(store.Line) error { n++; return nil }); err != nil || uint64(n) != h0.Size {
			t.Fatalf("ReadLines over staged entries: %d lines (%v), want the %d durable", n, err, h0.Size)
		}
		if _, err := s.BatchEnd(ctx, b1.First+1); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("BatchEnd past the durable head: %v, want ErrNotFound", err)
		}
		if _, err := s.ReadHashes(ctx, []int64{int64(2 * b2.Size())}); err == nil {
			t.Fatal("ReadHashes of a staged hash succeeded")
		}
		if round%4 == 3 {
			// Nobody waits: Close syncs them, and they are there after.
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := w1(); err != nil {
				t.Fatalf("a wait after Close, for a batch Close made durable: %v", err)
			}
			s = openStaging(t, dir)
			if h, _ := s.Head(ctx); h.Size != b2.Size() {
				t.Fatalf("after Close with two batches staged: %d entries, want %d", h.Size, b2.Size())
			}
			continue
		}
		h1, err := w1()
		if err != nil || h1.Size < b1.Size() {
			t.Fatalf("wait: %d (%v), want at least %d", h1.Size, err, b1.Size())
		}
		if l, err := s.ReadLine(ctx, b1.First); err != nil || l.Leaf != b1.Leaves[0] {
			t.Fatalf("ReadLine after the wait: %v", err)
		}
		h2, err := w2()
		if err != nil || h2.Size != b2.Size() {
			t.Fatalf("second wait: %d (%v), want %d", h2.Size, err, b2.Size())
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStaging(t, dir)
	defer s.Close()
	if h, _ := s.Head(ctx); h.Size != b.Head().Size || h.LastLeaf != b.Head().LastLeaf {
		t.Fatalf("reopened at %d entries, want %d", h.Size, b.Head().Size)
	}
}

// A failed fsync in a wait poisons the store: that wait fails, and so do
// the wait of the batch staged behind it and every later Stage; nothing
// the failed sync covered becomes visible. The reopened log holds what
// was acknowledged.
func TestStageFailedSync(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "log")
	s := openStaging(t, dir)
	b := storetest.NewBuilder("stage")
	if _, err := s.Append(ctx, b.Batch(4)); err != nil {
		t.Fatal(err)
	}
	b1, b2 := b.Batch(2), b.Batch(2)
	w1, err := s.Stage(ctx, b1)
	if err != nil {
		t.Fatal(err)
	}
	w2, err := s.Stage(ctx, b2)
	if err != nil {
		t.Fatal(err)
	}
	file.SetFaultHook(func(step, when string) error {
		if step == "sync segment" && when == "before" {
			return errors.New("injected EIO")
		}
		return nil
	})
	defer file.SetFaultHook(nil)
	if _, err := w1(); !errors.Is(err, store.ErrPoisoned) {
		t.Fatalf("wait with a failing fsync: %v, want ErrPoisoned", err)
	}
	file.SetFaultHook(nil)
	if _, err := w2(); !errors.Is(err, store.ErrPoisoned) {
		t.Fatalf("the wait behind a failed one: %v, want ErrPoisoned", err)
	}
	if _, err := s.Stage(ctx, b.Batch(1)); !errors.Is(err, store.ErrPoisoned) {
		t.Fatalf("Stage after a failed sync: %v, want ErrPoisoned", err)
	}
	if h, _ := s.Head(ctx); h.Size != 4 {
		t.Fatalf("head after the failed sync: %d, want 4", h.Size)
	}
	s.Close()
	s = openStaging(t, dir)
	defer s.Close()
	h, err := s.Head(ctx)
	if err != nil || h.Size < 4 {
		t.Fatalf("reopened: %d entries (%v), want at least the 4 acknowledged", h.Size, err)
	}
}

// A wait may run while the store is being closed (the engine drains
// first, but the contract does not ask a caller to): it neither panics
// nor acknowledges what is not durable, and the entries it reports are
// there after a reopen.
func TestStageWaitDuringClose(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "log")
	b := storetest.NewBuilder("stage")
	var acked uint64
	for i := 0; i < 20; i++ {
		s := openStaging(t, dir)
		if err := b.Load(ctx, s); err != nil {
			t.Fatal(err)
		}
		w, err := s.Stage(ctx, b.Batch(3))
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			if h, err := w(); err == nil {
				acked = max(acked, h.Size)
			} else if !errors.Is(err, store.ErrClosed) {
				t.Errorf("a wait during Close: %v, want success or ErrClosed", err)
			}
		}()
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		<-done
	}
	s := openStaging(t, dir)
	defer s.Close()
	if h, _ := s.Head(ctx); h.Size < acked {
		t.Fatalf("reopened with %d entries; a wait acknowledged %d", h.Size, acked)
	}
}
