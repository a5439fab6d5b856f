//go:build unix

package file

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/internal/durable"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/tree"
)

var _ store.Pruner = (*Store)(nil)

// PrunePoint returns the largest segment start <= below among the sealed
// segments (never the active one's, which is being written).
func (s *Store) PrunePoint(ctx context.Context, below uint64) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return 0, store.ErrClosed
	}
	var p uint64
	for i, sg := range s.segs {
		if i == len(s.segs)-1 {
			break
		}
		if sg.first <= below && sg.first > 0 {
			p = sg.first
		}
	}
	if s.pruned != nil && s.pruned.Below > p {
		p = s.pruned.Below
	}
	return p, nil
}

// Pruned returns the prune point recorded in pruned.json.
func (s *Store) Pruned(ctx context.Context) (*store.PruneState, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.pruned == nil {
		return nil, nil
	}
	return &store.PruneState{Below: s.pruned.Below, Leaf: s.pruned.Leaf, Time: s.pruned.Time,
		Edge: append(s.pruned.Edge[:0:0], s.pruned.Edge...), Record: s.pruned.Record,
		Rotations: append([]format.KeptRotation(nil), s.pruned.Rotations...)}, nil
}

// Prune writes pruned.json (temp file, fsync, rename, fsync dir), then
// deletes the segments wholly below st.Below and fsyncs the segments
// directory. The index and hashes files are kept whole: the hashes are
// what inclusion and consistency proofs of the remaining entries need.
func (s *Store) Prune(ctx context.Context, st store.PruneState) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.opts.ReadOnly {
		return store.ErrReadOnly
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.rewrite.Lock() // no compression or erasure rewrites a segment meanwhile
	defer s.rewrite.Unlock()
	s.mu.RLock()
	closed, head, segs, cur := s.closed, s.head, append([]segment(nil), s.segs...), s.pruned
	s.mu.RUnlock()
	switch {
	case closed:
		return store.ErrClosed
	case st.Below == 0 || st.Record < st.Below || st.Record >= head.Size:
		return fmt.Errorf("prune below %d with the record at %d: the log has %d entries (the record must be committed, after the prune point)", st.Below, st.Record, head.Size)
	case cur != nil && st.Below <= cur.Below:
		return fmt.Errorf("the log is pruned below %d already", cur.Below)
	}
	ok := false
	for _, sg := range segs[:len(segs)-1] {
		ok = ok || sg.first == st.Below
	}
	if !ok {
		return fmt.Errorf("entry %d does not start a sealed segment: a log is pruned by whole segments (see PrunePoint)", st.Below)
	}
	p := &layout.Pruned{Below: st.Below, Leaf: st.Leaf, Time: st.Time, Edge: st.Edge, Record: st.Record, Rotations: st.Rotations}
	if _, err := layout.ParsePruned(p.Marshal()); err != nil {
		return fmt.Errorf("prune state: %w", err)
	}
	if err := durable.WriteFile(filepath.Join(s.dir, layout.PrunedFile), p.Marshal(), 0o644); err != nil {
		return s.poison(err)
	}
	s.mu.Lock()
	s.pruned = p
	s.mu.Unlock()
	return s.deletePruned()
}

// deletePruned deletes the segments wholly below the prune point and
// their frame indexes (after a Prune).
func (s *Store) deletePruned() error {
	return s.removePruned(s.dropPruned())
}

// dropPruned takes the segments wholly below the prune point out of
// s.segs and returns them; it changes nothing on disk (recovery's plan
// calls it, and apply removes the files).
func (s *Store) dropPruned() []segment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var gone []segment
	for len(s.segs) > 1 && s.segs[1].first <= s.pruned.Below {
		gone = append(gone, s.segs[0])
		s.segs = s.segs[1:]
	}
	return gone
}

// removePruned deletes the files of the segments dropPruned returned and
// fsyncs the segments directory.
func (s *Store) removePruned(gone []segment) error {
	if len(gone) == 0 {
		return nil
	}
	for _, sg := range gone {
		s.readers.drop(sg.path)
		for _, path := range []string{sg.path, filepath.Join(filepath.Dir(sg.path), layout.FrameIndexName(sg.first))} {
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	s.log.Info("pruned", "below", s.pruned.Below, "segments deleted", len(gone), "record", s.pruned.Record)
	return durable.SyncDir(filepath.Join(s.dir, layout.SegmentsDir))
}

// prunedStart sets the scanner to the state after entry p.Below-1, from
// pruned.json, for recovery of a pruned log.
func (s *Store) prunedStart(sc *scanner) error {
	p := s.pruned
	edge, err := tree.FromHashes(p.Below, p.Edge)
	if err != nil {
		return err
	}
	sc.next, sc.edge, sc.last, sc.time = p.Below, edge, p.Leaf, p.Time
	return nil
}

// checkPrunedRead returns ErrPruned for entries below the prune point.
func (s *Store) checkPrunedRead(seq uint64) error {
	s.mu.RLock()
	p := s.pruned
	s.mu.RUnlock()
	if p != nil && seq < p.Below {
		return fmt.Errorf("entry %d: %w (the log was pruned below %d)", seq, store.ErrPruned, p.Below)
	}
	return nil
}
