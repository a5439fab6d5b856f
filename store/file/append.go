//go:build unix

package file

import (
	"context"
	"encoding/binary"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/store"
)

// Append writes a batch and returns once it is durable: one write to the
// active segment, one each to the index and hashes files, one fdatasync of
// the segment.
func (s *Store) Append(ctx context.Context, b *store.Batch) error {
	if s.opts.ReadOnly {
		return ErrReadOnly
	}
	if s.poisoned != nil {
		return fmt.Errorf("%w: %w", store.ErrPoisoned, s.poisoned)
	}
	s.mu.RLock()
	closed, size := s.closed, s.head.Size
	s.mu.RUnlock()
	if closed {
		return store.ErrClosed
	}
	if b.First != size {
		return fmt.Errorf("batch starts at %d but the log has %d entries", b.First, size)
	}
	if len(b.Ends) == 0 {
		return nil
	}
	if s.seg.Size() > 0 && s.seg.Size()+int64(len(b.Lines)) > s.opts.SegmentSize {
		if err := s.rotate(b.First); err != nil {
			return s.poison(err)
		}
	}
	base := s.seg.Size()
	ib := make([]byte, 8*len(b.Ends))
	start := 0
	for i, end := range b.Ends {
		binary.BigEndian.PutUint64(ib[8*i:], uint64(base)+uint64(start))
		start = end
	}
	if err := s.seg.Write(b.Lines); err != nil {
		return s.poison(err)
	}
	if err := s.index.Write(ib); err != nil {
		return s.poison(err)
	}
	if err := s.hashes.Write(hashBytes(b.Hashes)); err != nil {
		return s.poison(err)
	}
	if err := s.seg.Sync(); err != nil {
		return s.poison(err)
	}
	s.mu.Lock()
	s.head = store.Head{Size: b.First + uint64(len(b.Ends)), LastLeaf: b.LastLeaf, LastTime: b.LastTime, Checkpoint: b.Checkpoint}
	s.mu.Unlock()
	s.pub.publish()
	return nil
}

// poison records the first write failure: from then on the store refuses
// appends, because what reached the disk is unknown.
func (s *Store) poison(err error) error {
	if s.poisoned == nil {
		s.poisoned = err
		s.log.Error("write failed; the log refuses appends until it is reopened", "error", err)
	}
	return fmt.Errorf("%w: %w", store.ErrPoisoned, err)
}

// rotate seals the active segment and starts a new one at first. The
// derived files are made durable first, so that a new segment's existence
// proves them complete up to its first entry.
func (s *Store) rotate(first uint64) error {
	if err := s.index.Sync(); err != nil {
		return err
	}
	if err := s.hashes.Sync(); err != nil {
		return err
	}
	if err := s.seg.Sync(); err != nil {
		return err
	}
	s.mu.RLock()
	sealed := s.segs[len(s.segs)-1].first
	s.mu.RUnlock()
	if err := s.newSegment(first); err != nil {
		return err
	}
	if s.comp != nil {
		s.comp.enqueue(sealed)
	}
	s.log.Debug("sealed a segment", "first", sealed, "next", first)
	return nil
}

var _ tlog.HashReader = (*Store)(nil)
