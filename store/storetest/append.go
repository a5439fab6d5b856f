package storetest

import (
	"context"
	"errors"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/store"
)

// testAppendRead: batches of various sizes read back as written, with
// the stored hashes tlog computes, a tree whose root is the builder's at
// every batch end, and proofs that check; the store keeps copies, not the
// caller's buffers.
func testAppendRead(t *testing.T, ctx context.Context, open Opener) {
	s := open(t)
	defer s.Close()
	b := NewBuilder("w")
	type tree struct {
		size uint64
		root tlog.Hash
	}
	var (
		all   [][]byte
		trees []tree
	)
	for _, n := range []int{1, 3, 17, 2, 8, 1, 32} {
		batch := b.Batch(n)
		all = append(all, lines(batch)...)
		h := mustAppend(t, ctx, s, batch)
		scribble(batch)
		trees = append(trees, tree{h.Size, b.Root()})
		checkLog(t, ctx, s, b.Head(), all)
	}
	hr := store.HashReader(ctx, s)
	for i, tr := range trees {
		root, err := tlog.TreeHash(int64(tr.size), hr)
		if err != nil || root != tr.root {
			t.Fatalf("TreeHash(%d) over the store = %x, %v; want %x", tr.size, root, err, tr.root)
		}
		for _, seq := range []uint64{0, tr.size / 2, tr.size - 1} {
			l, err := s.ReadLine(ctx, seq)
			if err != nil {
				t.Fatal(err)
			}
			p, err := tlog.ProveRecord(int64(tr.size), int64(seq), hr)
			if err != nil || tlog.CheckRecord(p, int64(tr.size), tr.root, int64(seq), l.Leaf) != nil {
				t.Fatalf("record proof of entry %d in the tree of %d: %v", seq, tr.size, err)
			}
		}
		if i > 0 {
			old := trees[i-1]
			p, err := tlog.ProveTree(int64(tr.size), int64(old.size), hr)
			if err != nil || tlog.CheckTree(p, int64(tr.size), tr.root, int64(old.size), old.root) != nil {
				t.Fatalf("tree proof from %d to %d: %v", old.size, tr.size, err)
			}
		}
	}
	n := tlog.StoredHashCount(int64(b.Head().Size))
	for _, idx := range [][]int64{{n}, {0, n}, {n + 100}, {-1}} {
		if _, err := s.ReadHashes(ctx, idx); err == nil {
			t.Fatalf("ReadHashes(%v) beyond the %d stored hashes succeeded", idx, n)
		}
	}
}

// scribble overwrites the buffers of a committed batch, as a caller that
// reuses them would.
func scribble(b *store.Batch) {
	for i := range b.Lines {
		b.Lines[i] = 'x'
	}
	clear(b.Leaves)
	clear(b.Hashes)
	clear(b.Checkpoint)
}

// testReadLinesRanges: ReadLines gives [from, min(to, size)), nothing for
// an empty or past-the-head range, and stops at fn's first error.
func testReadLinesRanges(t *testing.T, ctx context.Context, open Opener) {
	s := open(t)
	defer s.Close()
	b := NewBuilder("w")
	all := appendBatches(t, ctx, s, b, 5, 9, 6)
	v := checkLog(t, ctx, s, b.Head(), all)
	const size = 20
	for _, c := range []struct{ from, to, wantTo uint64 }{
		{0, size, size},
		{0, size + 5, size},
		{0, ^uint64(0), size},
		{3, 7, 7},
		{19, 100, size},
		{7, 7, 7},
		{size, size, size},
		{size, size + 10, size},
		{size + 5, size + 10, size + 5},
		{9, 3, 9},
	} {
		next := c.from
		err := s.ReadLines(ctx, c.from, c.to, func(l store.Line) error {
			if l.Seq != next || next >= c.wantTo || l.Leaf != v.leaves[next] || string(l.Bytes) != string(all[next]) {
				return errors.New("unexpected entry")
			}
			next++
			return nil
		})
		if err != nil || next != c.wantTo {
			t.Fatalf("ReadLines(%d, %d): %v after entries [%d, %d); want [%d, %d)", c.from, c.to, err, c.from, next, c.from, c.wantTo)
		}
	}
	stop := errors.New("stop")
	n := 0
	err := s.ReadLines(ctx, 0, size, func(store.Line) error {
		if n++; n == 3 {
			return stop
		}
		return nil
	})
	if err != stop || n != 3 {
		t.Fatalf("ReadLines whose fn fails at the third entry: %v after %d entries, want fn's error after 3", err, n)
	}
}

// testStale: a batch that does not start at the committed size, before or
// after it, gets a *store.ConflictError with the current head and writes
// nothing, erasures included.
func testStale(t *testing.T, ctx context.Context, open Opener) {
	s := open(t)
	defer s.Close()
	b := NewBuilder("w")
	at0 := b.Clone()
	all := appendBatches(t, ctx, s, b, 3)
	at3 := b.Clone()
	all = append(all, appendBatches(t, ctx, s, b, 1)...)
	at4 := b.Clone()
	all = append(all, appendBatches(t, ctx, s, b, 1)...)
	want := b.Head()
	l, err := s.ReadLine(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	e, err := Erased(l)
	if err != nil {
		t.Fatal(err)
	}
	ahead := b.Clone()
	ahead.Batch(1)
	far := b.Clone()
	far.Batch(995)
	for _, c := range []struct {
		name  string
		batch *store.Batch
	}{
		{"from the empty log", at0.Batch(1)},
		{"two batches behind, ending at the size", at3.Batch(2)},
		{"one entry behind", at4.Clone().Batch(3)},
		{"one entry behind, with an erasure", at4.Clone().EraseBatch(e)},
		{"one entry ahead", ahead.Batch(2)},
		{"far ahead", far.Batch(1)},
	} {
		_, err := s.Append(ctx, c.batch)
		ce := isConflict(err)
		if ce == nil || ce.First != c.batch.First || !sameHead(ce.Head, want) {
			t.Fatalf("%s: Append at %d of a log of %d: %v; want a *store.ConflictError with First %d and the head", c.name, c.batch.First, want.Size, err, c.batch.First)
		}
		checkLog(t, ctx, s, want, all)
	}
	all = append(all, appendBatches(t, ctx, s, b, 2)...)
	checkLog(t, ctx, s, b.Head(), all)
}
