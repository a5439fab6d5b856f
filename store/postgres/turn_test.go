package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/store/postgres"
	"github.com/sealog/sealog/store/storetest"
)

// TestTurn: a Store whose batch lost the race keeps its turn — another
// writer's Append waits until the loser's re-sequenced batch is in — and
// gives it up after TurnTimeout if it never retries.
func TestTurn(t *testing.T) {
	d := dsn(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	meta := storetest.Metadata()
	schema := newSchema(t, d)
	const hold = 500 * time.Millisecond
	opts := postgres.Options{Origin: meta.Origin, Key: meta.Key, TurnTimeout: hold}
	a, b := open(t, d, schema, opts), open(t, d, schema, opts)
	defer a.Close()
	defer b.Close()
	wa, wb := storetest.NewBuilder("a"), storetest.NewBuilder("b")
	stale := wb.Batch(1)
	if _, err := a.Append(ctx, wa.Batch(2)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Append(ctx, stale); !isConflict(err) || !reserved(err) {
		t.Fatalf("Append of a stale batch: %v, want a conflict that reserves the head for the retry", err)
	}
	// b holds the turn: a's next batch waits for b's retry.
	done := make(chan error, 1)
	go func() { _, err := a.Append(ctx, wa.Batch(1)); done <- err }()
	select {
	case err := <-done:
		t.Fatalf("another writer appended while the loser held its turn: %v", err)
	case <-time.After(hold / 5):
	}
	if h, err := b.Head(ctx); err != nil || h.Size != 2 {
		t.Fatalf("Head during the turn: %d, %v; want 2", h.Size, err)
	}
	retry, err := wb.Retry(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if h, err := b.Append(ctx, retry); err != nil || h.Size != 3 {
		t.Fatalf("the retry in the turn: %d, %v; want size 3", h.Size, err)
	}
	if err := <-done; !isConflict(err) {
		t.Fatalf("the waiting writer's batch, built before the retry: %v, want a conflict", err)
	}
	// Now a holds the turn; it gives it up after the timeout.
	start := time.Now()
	if _, err := b.Append(ctx, wb.Batch(1)); err != nil {
		t.Fatalf("Append after the other writer's turn timed out: %v", err)
	}
	if el := time.Since(start); el < hold/2 {
		t.Fatalf("the turn ended after %s, before its timeout of %s", el, hold)
	}
	wantSize(t, ctx, a, 4)
}

// reserved reports whether err is a *store.ConflictError that says the
// store holds the head for the retry.
func reserved(err error) bool {
	var ce *store.ConflictError
	return errors.As(err, &ce) && ce.Reserved
}

// isConflict reports whether err is a *store.ConflictError.
func isConflict(err error) bool {
	var ce *store.ConflictError
	return errors.As(err, &ce)
}

// wantSize fails the test unless s's head is at size.
func wantSize(t *testing.T, ctx context.Context, s store.Store, size uint64) {
	t.Helper()
	if h, err := s.Head(ctx); err != nil || h.Size != size {
		t.Fatalf("head %d, %v; want %d", h.Size, err, size)
	}
}

// TestNoTurn: with a negative TurnTimeout a loser keeps no turn, and its
// conflict says so (not Reserved), so the engine pauses before retrying.
func TestNoTurn(t *testing.T) {
	d := dsn(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	meta := storetest.Metadata()
	schema := newSchema(t, d)
	opts := postgres.Options{Origin: meta.Origin, Key: meta.Key, TurnTimeout: -1}
	a, b := open(t, d, schema, opts), open(t, d, schema, opts)
	defer a.Close()
	defer b.Close()
	wa, wb := storetest.NewBuilder("a"), storetest.NewBuilder("b")
	stale := wb.Batch(1)
	if _, err := a.Append(ctx, wa.Batch(2)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Append(ctx, stale); !isConflict(err) || reserved(err) {
		t.Fatalf("Append of a stale batch without turns: %v, want a conflict that reserves nothing", err)
	}
	if _, err := a.Append(ctx, wa.Batch(1)); err != nil {
		t.Fatalf("the other writer appends at once: %v", err)
	}
}
