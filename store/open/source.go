package storeopen

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/verify"
)

// Source returns a verify.Source that reads the log held by st as a
// verifier must: its metadata and head as stored, and its lines as
// untrusted bytes (Lines: for a database, every stored row, whatever its
// head and hashes say), as one segment named name. The store commits
// whole batches, so the segment is atomic: an entry no signature covers
// is tampering, not a crash's remnant. The head's checkpoint plays the
// part of a log directory's checkpoint file; it is read before the
// lines, so a writer at work can only have added entries beyond it.
func Source(ctx context.Context, st store.Store, name string) verify.Source {
	return &storeSource{ctx: ctx, st: st, name: name}
}

type storeSource struct {
	ctx  context.Context
	st   store.Store
	name string
}

func (s *storeSource) Metadata() (string, string, error) {
	m, err := s.st.Metadata(s.ctx)
	switch {
	case errors.Is(err, store.ErrNotLog):
		return "", "", fmt.Errorf("%s: %w", s.name, layout.ErrNotLog)
	case err != nil:
		return "", "", fmt.Errorf("%s: %w: %v", s.name, layout.ErrBadMetadata, err)
	}
	return m.Origin, m.Key, nil
}

func (s *storeSource) Segments() ([]verify.Segment, error) {
	var first uint64
	if p, err := s.Pruned(); err == nil && p != nil {
		first = p.Below // a pruned log's rows start there
	}
	return []verify.Segment{{
		Name:   s.name,
		First:  first,
		Atomic: true,
		Open:   func() (io.ReadCloser, error) { return Lines(s.ctx, s.st), nil },
	}}, nil
}

// Pruned returns the prune state of a store that prunes (docs/FORMAT.md
// §13.5) as a directory's pruned.json would hold it; damaged, a state
// that is not one.
func (s *storeSource) Pruned() (*layout.Pruned, error) {
	pr, ok := s.st.(store.Pruner)
	if !ok {
		return nil, nil
	}
	p, err := pr.Pruned(s.ctx)
	switch {
	case errors.Is(err, store.ErrCorrupt):
		return nil, fmt.Errorf("%w: the prune state: %v", verify.ErrDamaged, err)
	case err != nil:
		return nil, fmt.Errorf("%s: reading the prune state: %w", s.name, err)
	case p == nil:
		return nil, nil
	}
	return &layout.Pruned{Below: p.Below, Leaf: p.Leaf, Time: p.Time, Edge: p.Edge, Record: p.Record, Rotations: p.Rotations}, nil
}

func (s *storeSource) Checkpoint() ([]byte, error) {
	h, err := s.st.Head(s.ctx)
	switch {
	case errors.Is(err, store.ErrCorrupt):
		// A head row that is not a head is damage to the log, for the
		// report, not a failure to read it.
		return nil, fmt.Errorf("%w: the head: %v", verify.ErrDamaged, err)
	case err != nil:
		return nil, fmt.Errorf("%s: reading the head: %w", s.name, err)
	}
	return h.Checkpoint, nil
}

// Live is false: a database has no writer lock to look at. Entries
// appended while the lines are read lie beyond the head read first.
func (s *storeSource) Live() bool { return false }

func (s *storeSource) Warnings() []string { return nil }

func (s *storeSource) Damage() []string { return nil }
