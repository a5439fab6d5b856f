package storetest

import (
	"context"
	"errors"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/store"
)

// testEmpty: a new log has the zero head, no entries, hashes or batch
// ends, and the identity it was created with.
func testEmpty(t *testing.T, ctx context.Context, open Opener) {
	s := open(t)
	defer s.Close()
	checkMetadata(t, ctx, s)
	if h := head(t, ctx, s); h.Size != 0 || h.Checkpoint != nil || h.LastTime != 0 || h.LastLeaf != (tlog.Hash{}) {
		t.Fatalf("empty store head %+v, want the zero Head", h)
	}
	if _, err := s.ReadLine(ctx, 0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ReadLine(0) on an empty store: %v, want ErrNotFound", err)
	}
	for _, size := range []uint64{0, 1, 100} {
		if n, err := s.BatchEnd(ctx, size); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("BatchEnd(%d) on an empty store = %d, %v; want ErrNotFound", size, n, err)
		}
	}
	if err := s.ReadLines(ctx, 0, 10, func(l store.Line) error {
		t.Fatalf("ReadLines on an empty store gave entry %d", l.Seq)
		return nil
	}); err != nil {
		t.Fatalf("ReadLines(0, 10) on an empty store: %v", err)
	}
	if _, err := s.ReadHashes(ctx, []int64{0}); err == nil {
		t.Fatal("ReadHashes(0) on an empty store succeeded")
	}
}

// checkMetadata checks that s has the suite's identity.
func checkMetadata(t *testing.T, ctx context.Context, s store.Store) {
	t.Helper()
	m, err := s.Metadata(ctx)
	want := Metadata()
	if err != nil || m.Format != want.Format || m.Origin != want.Origin || m.Key != want.Key || !m.Created.Equal(want.Created) {
		t.Fatalf("Metadata = %+v, %v; want %+v", m, err, want)
	}
}

// testReopen: after Close, the Opener reopens the same log, erasures
// included, and appending continues.
func testReopen(t *testing.T, ctx context.Context, open Opener) {
	s := open(t)
	b := NewBuilder("w")
	all := appendBatches(t, ctx, s, b, 4, 4, 1, 7, 4)
	l, err := s.ReadLine(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	e, err := Erased(l)
	if err != nil {
		t.Fatal(err)
	}
	eb := b.EraseBatch(e)
	mustAppend(t, ctx, s, eb)
	all[1] = e.Line[:len(e.Line)-1]
	all = append(all, lines(eb)...)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = open(t)
	defer s.Close()
	checkMetadata(t, ctx, s)
	checkLog(t, ctx, s, b.Head(), all)
	all = append(all, appendBatches(t, ctx, s, b, 2)...)
	// A writer that starts from the reopened store's head continues it too.
	w := NewBuilder("w2")
	if err := w.Load(ctx, s); err != nil {
		t.Fatal(err)
	}
	all = append(all, appendBatches(t, ctx, s, w, 3)...)
	checkLog(t, ctx, s, w.Head(), all)
}

// testClosed: after Close every method returns an error wrapping
// store.ErrClosed, and an Append writes nothing.
func testClosed(t *testing.T, ctx context.Context, open Opener) {
	s := open(t)
	b := NewBuilder("w")
	all := appendBatches(t, ctx, s, b, 2)
	want := b.Head()
	next := b.Batch(1)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	calls := []struct {
		name string
		call func() error
	}{
		{"Metadata", func() error { _, err := s.Metadata(ctx); return err }},
		{"Head", func() error { _, err := s.Head(ctx); return err }},
		{"Append", func() error { _, err := s.Append(ctx, next); return err }},
		{"ReadHashes", func() error { _, err := s.ReadHashes(ctx, []int64{0}); return err }},
		{"ReadLine", func() error { _, err := s.ReadLine(ctx, 0); return err }},
		{"ReadLines", func() error {
			return s.ReadLines(ctx, 0, 2, func(store.Line) error { return errors.New("ReadLines called fn") })
		}},
		{"BatchEnd", func() error { _, err := s.BatchEnd(ctx, 0); return err }},
	}
	for _, c := range calls {
		if err := c.call(); !errors.Is(err, store.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", c.name, err)
		}
	}
	_ = s.Close() // a second Close may return an error, but must not panic

	s = open(t)
	defer s.Close()
	checkLog(t, ctx, s, want, all)
}

// testCancel: a cancelled context makes every method fail with an error
// wrapping context.Canceled, and Append write nothing; cancelling during
// ReadLines stops it.
func testCancel(t *testing.T, ctx context.Context, open Opener) {
	s := open(t)
	defer s.Close()
	b := NewBuilder("w")
	all := appendBatches(t, ctx, s, b, 5, 40)
	want := b.Head()
	next := b.Batch(3)

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	calls := []struct {
		name string
		call func() error
	}{
		{"Metadata", func() error { _, err := s.Metadata(cctx); return err }},
		{"Head", func() error { _, err := s.Head(cctx); return err }},
		{"Append", func() error { _, err := s.Append(cctx, next); return err }},
		{"ReadHashes", func() error { _, err := s.ReadHashes(cctx, []int64{0}); return err }},
		{"ReadLine", func() error { _, err := s.ReadLine(cctx, 0); return err }},
		{"ReadLines", func() error {
			return s.ReadLines(cctx, 0, 45, func(store.Line) error { return errors.New("ReadLines called fn") })
		}},
		{"BatchEnd", func() error { _, err := s.BatchEnd(cctx, 0); return err }},
	}
	for _, c := range calls {
		if err := c.call(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: %v, want context.Canceled", c.name, err)
		}
	}
	checkLog(t, ctx, s, want, all)

	rctx, rcancel := context.WithCancel(ctx)
	defer rcancel()
	n := 0
	err := s.ReadLines(rctx, 0, 45, func(store.Line) error {
		if n++; n == 1 {
			rcancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("ReadLines cancelled during its first callback: %v after %d callbacks, want context.Canceled", err, n)
	}
	t.Logf("ReadLines made %d callbacks of 45 before it stopped", n)

	mustAppend(t, ctx, s, next) // what the cancelled Append refused
}
