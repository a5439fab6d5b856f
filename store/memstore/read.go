package memstore

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/store"
)

// ReadHashes returns the stored hashes at indexes. An index outside the
// committed tree is an error wrapping store.ErrNotFound.
func (s *Store) ReadHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	db := s.db
	db.mu.RLock()
	defer db.mu.RUnlock()
	out := make([]tlog.Hash, len(indexes))
	for i, idx := range indexes {
		if idx < 0 || idx >= int64(len(db.hashes)) {
			return nil, fmt.Errorf("memstore: hash %d is outside the tree of %d entries: %w", idx, db.head.Size, store.ErrNotFound)
		}
		out[i] = db.hashes[idx]
	}
	return out, nil
}

// ReadLine returns a copy of committed entry seq.
func (s *Store) ReadLine(ctx context.Context, seq uint64) (store.Line, error) {
	if err := s.check(ctx); err != nil {
		return store.Line{}, err
	}
	db := s.db
	db.mu.RLock()
	defer db.mu.RUnlock()
	if seq >= db.head.Size {
		return store.Line{}, fmt.Errorf("memstore: entry %d: %w", seq, store.ErrNotFound)
	}
	return store.Line{Seq: seq, Leaf: db.leafLocked(seq), Bytes: bytes.Clone(db.lines[seq])}, nil
}

// leafLocked returns the leaf hash of committed entry seq.
func (db *DB) leafLocked(seq uint64) tlog.Hash {
	return db.hashes[tlog.StoredHashIndex(0, int64(seq))]
}

// readChunk is how many lines ReadLines copies per lock: fn runs with no
// lock held, so it may call the store, and writers wait little.
const readChunk = 64

// ReadLines calls fn with each committed entry in [from, min(to, size)),
// where size is the committed size when it is called. Line.Bytes is a
// copy, reused after fn returns. It checks ctx and the handle before each
// line.
func (s *Store) ReadLines(ctx context.Context, from, to uint64, fn func(store.Line) error) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	db := s.db
	db.mu.RLock()
	to = min(to, db.head.Size)
	db.mu.RUnlock()
	var (
		chunk []store.Line
		buf   []byte
	)
	for from < to {
		chunk, buf = chunk[:0], buf[:0]
		db.mu.RLock()
		for seq := from; seq < min(to, from+readChunk); seq++ {
			n := len(buf)
			buf = append(buf, db.lines[seq]...)
			chunk = append(chunk, store.Line{Seq: seq, Leaf: db.leafLocked(seq), Bytes: buf[n:len(buf):len(buf)]})
		}
		db.mu.RUnlock()
		for _, l := range chunk {
			if err := s.check(ctx); err != nil {
				return err
			}
			if err := fn(l); err != nil {
				return err
			}
		}
		from += uint64(len(chunk))
	}
	return nil
}

// BatchEnd returns the smallest size >= size at which a committed batch
// ends.
func (s *Store) BatchEnd(ctx context.Context, size uint64) (uint64, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	db := s.db
	db.mu.RLock()
	defer db.mu.RUnlock()
	i, _ := slices.BinarySearch(db.ends, size)
	if i == len(db.ends) {
		return 0, fmt.Errorf("memstore: no batch ends at or after size %d: %w", size, store.ErrNotFound)
	}
	return db.ends[i], nil
}
