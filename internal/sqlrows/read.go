package sqlrows

import (
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/store"
)

// The read side: a SQL store scans its rows with its own driver and
// hands the columns here, which checks them and makes the store's values
// the same way for both backends. A row that breaks what the schema's
// constraints promise (the database was changed outside sealog) is an
// error wrapping store.ErrCorrupt.

// Head returns the head a head row holds: size, last_leaf, last_time,
// checkpoint.
func Head(size int64, leaf []byte, lastTime int64, checkpoint []byte) (store.Head, error) {
	switch {
	case size < 0:
		return store.Head{}, fmt.Errorf("the head row has size %d: %w", size, store.ErrCorrupt)
	case size == 0 && (leaf != nil || checkpoint != nil || lastTime != 0):
		return store.Head{}, fmt.Errorf("the head row of an empty log holds a leaf, a time or a checkpoint: %w", store.ErrCorrupt)
	case size > 0 && (len(leaf) != tlog.HashSize || len(checkpoint) == 0):
		return store.Head{}, fmt.Errorf("the head row of size %d has a leaf of %d bytes and a checkpoint of %d: %w", size, len(leaf), len(checkpoint), store.ErrCorrupt)
	}
	h := store.Head{Size: uint64(size), LastTime: lastTime, Checkpoint: checkpoint}
	copy(h.LastLeaf[:], leaf)
	return h, nil
}

// Line returns entry seq as its row holds it: its leaf hash and its line
// (aliased, not copied).
func Line(seq int64, leaf, line []byte) (store.Line, error) {
	if seq < 0 {
		return store.Line{}, fmt.Errorf("an entry row has seq %d: %w", seq, store.ErrCorrupt)
	}
	if len(leaf) != tlog.HashSize {
		return store.Line{}, fmt.Errorf("entry %d has a leaf of %d bytes: %w", seq, len(leaf), store.ErrCorrupt)
	}
	l := store.Line{Seq: uint64(seq), Bytes: line}
	copy(l.Leaf[:], leaf)
	return l, nil
}

// Lines calls fn with each entry from seq from to to-1, reading them a
// page at a time: page(from) returns the rows from seq from on, in seq
// order, at most a page. An entry missing below to (size is the head's,
// for the message) is an error wrapping store.ErrCorrupt. Its own errors
// start with backend; page's and fn's are returned as they are.
func Lines(backend string, from, to, size uint64, page func(from uint64) ([]store.Line, error), fn func(store.Line) error) error {
	for from < to {
		lines, err := page(from)
		if err != nil {
			return err
		}
		if len(lines) == 0 {
			return fmt.Errorf("%s: entry %d is missing below the head of %d: %w", backend, from, size, store.ErrCorrupt)
		}
		for _, l := range lines {
			if from >= to {
				return nil
			}
			if l.Seq != from {
				return fmt.Errorf("%s: entry %d is missing below the head of %d: %w", backend, from, size, store.ErrCorrupt)
			}
			if err := fn(l); err != nil {
				return err
			}
			from++
		}
	}
	return nil
}

// Stored is what an entries (or pruned_hashes) row holds of the tree:
// the leaf hash and the hashes of the levels above it that the entry
// completes (columns leaf and nodes).
type Stored struct {
	Leaf, Nodes []byte
}

// HashSeqs returns the seqs of the entries whose rows store the tree
// hashes at indexes (tlog's stored-hash indexes), in order. An index
// outside every tree is an error wrapping store.ErrNotFound.
func HashSeqs(indexes []int64) ([]int64, error) {
	seqs := make([]int64, 0, len(indexes))
	for _, idx := range indexes {
		seq, _, ok := HashEntry(idx)
		if !ok {
			return nil, fmt.Errorf("hash %d is outside every tree: %w", idx, store.ErrNotFound)
		}
		seqs = append(seqs, int64(seq))
	}
	return seqs, nil
}

// Hashes returns the hashes at indexes from the rows found, by seq. An
// index whose entry was not found is an error wrapping store.ErrNotFound.
func Hashes(indexes []int64, found map[uint64]Stored) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, idx := range indexes {
		seq, level, ok := HashEntry(idx)
		if !ok {
			return nil, fmt.Errorf("hash %d is outside every tree: %w", idx, store.ErrNotFound)
		}
		st, ok := found[seq]
		if !ok {
			return nil, fmt.Errorf("hash %d (entry %d) is outside the committed tree: %w", idx, seq, store.ErrNotFound)
		}
		h := st.Leaf
		if level > 0 {
			if len(st.Nodes)%tlog.HashSize != 0 || len(st.Nodes) < level*tlog.HashSize {
				return nil, fmt.Errorf("entry %d stores %d bytes of tree hashes, not hash %d of level %d: %w", seq, len(st.Nodes), idx, level, store.ErrCorrupt)
			}
			h = st.Nodes[(level-1)*tlog.HashSize : level*tlog.HashSize]
		}
		if len(h) != tlog.HashSize {
			return nil, fmt.Errorf("entry %d has a leaf of %d bytes: %w", seq, len(h), store.ErrCorrupt)
		}
		copy(out[i][:], h)
	}
	return out, nil
}
