// Package sqlrows is what the SQL stores (store/postgres, store/sqlite)
// share between a store's values and their tables' rows: it turns batches
// into the rows of the entries tables, filling the query columns (kind,
// actor, resource, time), and turns the rows read back (head, entries,
// tree hashes, prune state, timestamps) into the store's values, so that
// both backends check what they write and what they read alike. The
// backends scan with their own drivers; the checks are here.
package sqlrows

import (
	"bytes"
	"errors"
	"fmt"
	"math"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/store"
)

// MaxSeq is the largest seq a log holds: tlog's tree sizes are int64.
const MaxSeq = math.MaxInt64 - 1

// Rows are a batch's entries as the entries table's columns, one slice
// per column, for a backend's insert.
type Rows struct {
	Times                    []int64
	Kinds, Actors, Resources []string
	Leaves, Nodes, Lines     [][]byte
}

// FromBatch checks that b is shaped as the contract says — one leaf and
// one newline-terminated line per entry, each line an entry at its seq,
// and the stored hashes of exactly its entries — and returns its rows.
// The rows alias b's buffers. The query columns (time, kind, actor,
// resource) are copied out of each line; the line itself is stored as it
// is.
func FromBatch(b *store.Batch) (*Rows, error) {
	n := len(b.Ends)
	switch {
	case n == 0:
		return nil, errors.New("no entries")
	case len(b.Leaves) != n:
		return nil, fmt.Errorf("%d leaves for %d lines", len(b.Leaves), n)
	case b.Ends[n-1] != len(b.Lines):
		return nil, fmt.Errorf("the last line ends at %d, not at the end of the %d bytes", b.Ends[n-1], len(b.Lines))
	case len(b.Checkpoint) == 0:
		return nil, errors.New("no checkpoint")
	case b.First > MaxSeq || uint64(n) > MaxSeq-b.First:
		return nil, fmt.Errorf("%d entries at %d run past the largest seq", n, b.First)
	}
	first := tlog.StoredHashIndex(0, int64(b.First))
	if want := tlog.StoredHashCount(int64(b.Size())) - first; int64(len(b.Hashes)) != want {
		return nil, fmt.Errorf("%d stored hashes for %d entries, want %d", len(b.Hashes), n, want)
	}
	r := &Rows{
		Times: make([]int64, n), Kinds: make([]string, n), Actors: make([]string, n), Resources: make([]string, n),
		Leaves: make([][]byte, n), Nodes: make([][]byte, n), Lines: make([][]byte, n),
	}
	start := 0
	for i, end := range b.Ends {
		seq := b.First + uint64(i)
		if end <= start+1 || end > len(b.Lines) || bytes.IndexByte(b.Lines[start:end], '\n') != end-start-1 {
			return nil, fmt.Errorf("line %d is not one newline-terminated line", i)
		}
		line := b.Lines[start : end-1]
		p, err := format.ParseLine(line)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", seq, err)
		}
		if p.Seq != seq {
			return nil, fmt.Errorf("entry %d: the line says seq %d", seq, p.Seq)
		}
		r.Times[i], r.Lines[i] = p.Time, line
		if !p.Erased {
			if r.Kinds[i], r.Actors[i], r.Resources[i], err = EventColumns(p.Event); err != nil {
				return nil, fmt.Errorf("entry %d: %w", seq, err)
			}
		}
		// Entry seq's stored hashes run from its leaf up to the next
		// entry's first; b.Hashes holds them all, in that order.
		lo := tlog.StoredHashIndex(0, int64(seq)) - first
		hi := tlog.StoredHashIndex(0, int64(seq)+1) - first
		if b.Hashes[lo] != b.Leaves[i] {
			return nil, fmt.Errorf("leaf %d differs from its stored hash", i)
		}
		r.Leaves[i] = b.Hashes[lo][:]
		r.Nodes[i] = hashBytes(b.Hashes[lo+1 : hi])
		start = end
	}
	return r, nil
}

// hashBytes concatenates hs.
func hashBytes(hs []tlog.Hash) []byte {
	out := make([]byte, 0, len(hs)*tlog.HashSize)
	for _, h := range hs {
		out = append(out, h[:]...)
	}
	return out
}

// HashEntry returns the entry whose append stored the hash at tlog index
// idx, and the hash's level: the hash of level L and index n in that level
// is stored with entry (n+1)·2^L − 1, level 0 being its leaf. ok is false
// for a negative index, and for one of 2^62 or more, which only a tree of
// more than 2^61 entries holds (tlog's index arithmetic overflows there).
func HashEntry(idx int64) (seq uint64, level int, ok bool) {
	if idx < 0 || idx >= 1<<62 {
		return 0, 0, false
	}
	level, n := tlog.SplitStoredHashIndex(idx)
	return (uint64(n)+1)<<level - 1, level, true
}
