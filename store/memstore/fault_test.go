package memstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/store/memstore"
	"github.com/sealog/sealog/store/storetest"
)

var errDisk = errors.New("disk on fire")

// TestFailAppend checks each kind of injected fault: what Append returns,
// whether the batch was committed, and whether the handle is poisoned.
func TestFailAppend(t *testing.T) {
	errSync := fmt.Errorf("fsync: %w", store.ErrPoisoned)
	for _, c := range []struct {
		name      string
		fault     error // what the hook returns
		want      error // what Append's error wraps
		committed bool
		poisoned  bool
	}{
		{"before commit", errDisk, errDisk, false, false},
		{"after commit", memstore.AfterCommit(errDisk), errDisk, true, false},
		{"poisoned before commit", errSync, store.ErrPoisoned, false, true},
		{"poisoned after commit", memstore.AfterCommit(errSync), store.ErrPoisoned, true, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := t.Context()
			db := memstore.NewDB(storetest.Metadata())
			s, other := db.Open(), db.Open()
			w := storetest.NewBuilder("w")
			if _, err := s.Append(ctx, w.Batch(2)); err != nil {
				t.Fatal(err)
			}
			var once sync.Once
			db.FailAppend(func(*store.Batch) (err error) {
				once.Do(func() { err = c.fault })
				return err
			})
			if _, err := s.Append(ctx, w.Batch(3)); !errors.Is(err, c.want) {
				t.Fatalf("Append with a fault: %v, want %v", err, c.want)
			}
			want := uint64(2)
			if c.committed {
				want = 5
			}
			if got := size(t, other); got != want {
				t.Fatalf("after the fault the log has %d entries, want %d", got, want)
			}
			// The writer finds out, as the Log would, and goes on.
			if err := w.Load(ctx, s); err != nil {
				t.Fatal(err)
			}
			next := w.Batch(1)
			_, err := s.Append(ctx, next)
			if c.poisoned != errors.Is(err, store.ErrPoisoned) || !c.poisoned && err != nil {
				t.Fatalf("the next Append: %v; want poisoned %t", err, c.poisoned)
			}
			if !c.poisoned {
				return
			}
			// Reads work; another handle, and a reopened one, are not poisoned.
			if _, err := s.ReadLine(ctx, 0); err != nil {
				t.Fatalf("ReadLine on a poisoned handle: %v", err)
			}
			if _, err := other.Append(ctx, next); err != nil {
				t.Fatalf("Append on another handle: %v", err)
			}
			s.Close()
			if _, err := db.Open().Append(ctx, w.Batch(1)); err != nil {
				t.Fatalf("Append after reopening: %v", err)
			}
		})
	}
}

// TestFailAppendHook checks that the hook runs without the lock held (it
// may append itself, making the Append it fails a conflict) and that nil
// removes it.
func TestFailAppendHook(t *testing.T) {
	ctx := t.Context()
	db := memstore.NewDB(storetest.Metadata())
	s, other := db.Open(), db.Open()
	w, o := storetest.NewBuilder("w"), storetest.NewBuilder("o")
	db.FailAppend(func(b *store.Batch) error {
		db.FailAppend(nil)
		_, err := other.Append(ctx, o.Batch(1))
		return err
	})
	_, err := s.Append(ctx, w.Batch(1))
	var ce *store.ConflictError
	if !errors.As(err, &ce) || ce.Head.Size != 1 {
		t.Fatalf("Append overtaken by the hook: %v, want a conflict at size 1", err)
	}
	retry, err := w.Retry(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if h, err := s.Append(ctx, retry); err != nil || h.Size != 2 {
		t.Fatalf("Append after FailAppend(nil): %d, %v", h.Size, err)
	}
}

func size(t *testing.T, s store.Store) uint64 {
	t.Helper()
	h, err := s.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return h.Size
}
