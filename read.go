package sealog

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/format"
)

// Entry returns entry seq. The stored line is checked against the log's
// tree before it is returned, so a line changed on disk is an error, never
// a silently wrong entry.
func (l *Log) Entry(seq uint64) (Entry, error) {
	line, err := l.st.ReadLine(seq, nil)
	if err != nil {
		return Entry{}, fmt.Errorf("sealog: %w", err)
	}
	return l.decode(seq, line)
}

// Entries iterates over entries [from, to) in order; to is capped at the
// log's size. It stops at the first error, which it yields.
func (l *Log) Entries(ctx context.Context, from, to uint64) iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		stop := errors.New("stop")
		err := l.st.ReadLines(ctx, from, to, func(seq uint64, line []byte) error {
			e, err := l.decode(seq, append([]byte(nil), line...))
			if err != nil {
				return err
			}
			if !yield(e, nil) {
				return stop
			}
			return nil
		})
		if err != nil && err != stop {
			yield(Entry{}, fmt.Errorf("sealog: %w", err))
		}
	}
}

// decode parses a stored line into an Entry and checks it against the
// leaf hash stored in the tree.
func (l *Log) decode(seq uint64, line []byte) (Entry, error) {
	ln, err := format.ParseLine(line)
	if err != nil {
		return Entry{}, fmt.Errorf("sealog: entry %d: %w", seq, err)
	}
	if ln.Seq != seq {
		return Entry{}, fmt.Errorf("sealog: entry %d: the stored line says seq %d", seq, ln.Seq)
	}
	h := ln.Header()
	leaf := h.LeafHash()
	stored, err := l.st.ReadHashes([]int64{tlog.StoredHashIndex(0, int64(seq))})
	if err != nil {
		return Entry{}, fmt.Errorf("sealog: entry %d: %w", seq, err)
	}
	if stored[0] != leaf {
		return Entry{}, fmt.Errorf("sealog: entry %d: %w: its line does not match the log's tree", seq, ErrCorrupt)
	}
	e := Entry{Seq: seq, Time: time.Unix(0, ln.Time).UTC(), Erased: ln.Erased, LeafHash: leaf, BodyHash: h.BodyHash, Prev: ln.Prev, Line: line}
	if !ln.Erased {
		ev, err := format.ParseEvent(ln.Event)
		if err != nil {
			return Entry{}, fmt.Errorf("sealog: entry %d: %w", seq, err)
		}
		e.Kind, e.Actor, e.Resource, e.Payload = ev.Kind, ev.Actor, ev.Resource, ev.Payload
	}
	return e, nil
}

// InclusionProof returns the proof that entry seq is in the tree of the
// first size entries (size <= Size(); 0 means the current size).
func (l *Log) InclusionProof(seq, size uint64) (tlog.RecordProof, error) {
	if size == 0 {
		size = l.Size()
	}
	if seq >= size || size > l.Size() {
		return nil, fmt.Errorf("sealog: no inclusion proof for entry %d in a tree of %d (the log has %d entries)", seq, size, l.Size())
	}
	p, err := tlog.ProveRecord(int64(size), int64(seq), l.st)
	if err != nil {
		return nil, fmt.Errorf("sealog: %w", err)
	}
	return p, nil
}

// ConsistencyProof returns the proof that the tree of the first oldSize
// entries is a prefix of the tree of the first newSize (0 means the
// current size).
func (l *Log) ConsistencyProof(oldSize, newSize uint64) (tlog.TreeProof, error) {
	if newSize == 0 {
		newSize = l.Size()
	}
	if oldSize > newSize || newSize > l.Size() {
		return nil, fmt.Errorf("sealog: no consistency proof from size %d to %d (the log has %d entries)", oldSize, newSize, l.Size())
	}
	p, err := tlog.ProveTree(int64(newSize), int64(oldSize), l.st)
	if err != nil {
		return nil, fmt.Errorf("sealog: %w", err)
	}
	return p, nil
}

// TreeHash returns the root hash of the tree of the first size entries.
func (l *Log) TreeHash(size uint64) (tlog.Hash, error) {
	if size > l.Size() {
		return tlog.Hash{}, fmt.Errorf("sealog: tree size %d is beyond the log's %d entries", size, l.Size())
	}
	return tlog.TreeHash(int64(size), l.st)
}
