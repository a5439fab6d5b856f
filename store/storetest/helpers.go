package storetest

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/sealog/sealog/store"
)

// sameHead reports whether two heads are equal.
func sameHead(a, b store.Head) bool {
	return a.Size == b.Size && a.LastLeaf == b.LastLeaf && a.LastTime == b.LastTime && bytes.Equal(a.Checkpoint, b.Checkpoint)
}

// mustAppend appends batch and checks that the returned head is the
// batch's, and so is Head's.
func mustAppend(t *testing.T, ctx context.Context, s store.Store, batch *store.Batch) store.Head {
	t.Helper()
	h, err := s.Append(ctx, batch)
	if err != nil {
		t.Fatalf("Append of %d entries at %d: %v", len(batch.Ends), batch.First, err)
	}
	if want := batch.Head(); !sameHead(h, want) {
		t.Fatalf("Append returned head %+v, want the batch's %+v", h, want)
	}
	if got := head(t, ctx, s); !sameHead(got, h) {
		t.Fatalf("Head after Append = %+v, want %+v", got, h)
	}
	return h
}

// appendBatches appends a batch of each size made by b, and returns the
// lines appended, without newlines.
func appendBatches(t *testing.T, ctx context.Context, s store.Store, b *Builder, sizes ...int) [][]byte {
	t.Helper()
	var all [][]byte
	for _, n := range sizes {
		batch := b.Batch(n)
		mustAppend(t, ctx, s, batch)
		all = append(all, lines(batch)...)
	}
	return all
}

// head returns s's head.
func head(t *testing.T, ctx context.Context, s store.Store) store.Head {
	t.Helper()
	h, err := s.Head(ctx)
	if err != nil {
		t.Fatalf("Head: %v", err)
	}
	return h
}

// verify reads s back at its current head, which must be want, and
// checks it (readLog).
func verify(t *testing.T, ctx context.Context, s store.Store, want store.Head) *logView {
	t.Helper()
	h := head(t, ctx, s)
	if !sameHead(h, want) {
		t.Fatalf("head %+v, want %+v", h, want)
	}
	v, err := readLog(ctx, s, h)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// checkLog verifies s at head want and checks that its lines, from
// ReadLines and ReadLine, are the ones given.
func checkLog(t *testing.T, ctx context.Context, s store.Store, want store.Head, lines [][]byte) *logView {
	t.Helper()
	v := verify(t, ctx, s, want)
	if len(v.lines) != len(lines) {
		t.Fatalf("the log has %d entries, want %d", len(v.lines), len(lines))
	}
	for seq, line := range lines {
		if !bytes.Equal(v.lines[seq], line) {
			t.Fatalf("ReadLines: entry %d is\n%s\nwant\n%s", seq, v.lines[seq], line)
		}
		l, err := s.ReadLine(ctx, uint64(seq))
		if err != nil || l.Seq != uint64(seq) || l.Leaf != v.leaves[seq] || !bytes.Equal(l.Bytes, line) {
			t.Fatalf("ReadLine(%d) = %d %x %q, %v; want %x %q", seq, l.Seq, l.Leaf, l.Bytes, err, v.leaves[seq], line)
		}
	}
	return v
}

// lines returns the lines of a batch, without newlines.
func lines(b *store.Batch) [][]byte {
	var out [][]byte
	start := 0
	for _, end := range b.Ends {
		out = append(out, bytes.Clone(b.Lines[start:end-1]))
		start = end
	}
	return out
}

// isConflict returns the *store.ConflictError in err's chain, or nil.
func isConflict(err error) *store.ConflictError {
	var ce *store.ConflictError
	if errors.As(err, &ce) {
		return ce
	}
	return nil
}
