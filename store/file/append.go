//go:build unix

package file

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	"github.com/sealog/sealog/store"
)

// Append commits a batch if it starts at the log's size: one write to the
// active segment, one each to the index and hashes files, one fdatasync
// of the segment, a check that those files are still the log's; then the
// batch's erasures, if any (erase.go). One
// process writes a log (flock), so a conflict here means the caller's
// view of the head is stale, not that another writer raced it.
func (s *Store) Append(ctx context.Context, b *store.Batch) (store.Head, error) {
	if s.opts.ReadOnly {
		return store.Head{}, store.ErrReadOnly
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.RLock()
	closed, head, poisoned := s.closed, s.head, s.poisoned
	s.mu.RUnlock()
	switch {
	case closed:
		return head, store.ErrClosed
	case poisoned != nil:
		return head, fmt.Errorf("%w (after: %v)", store.ErrPoisoned, poisoned)
	case b.First != head.Size:
		return head, &store.ConflictError{First: b.First, Head: head}
	case len(b.Ends) == 0 || len(b.Leaves) != len(b.Ends):
		return head, fmt.Errorf("malformed batch: %d lines, %d leaves", len(b.Ends), len(b.Leaves))
	}
	if err := ctx.Err(); err != nil {
		return head, err
	}
	if len(b.Erasures) > 0 {
		// Checked before anything is written: a bad erasure fails the
		// whole batch with nothing committed.
		if err := s.prepareErase(ctx, b); err != nil {
			return head, err
		}
	}
	if s.seg.Size() > 0 && s.seg.Size()+int64(len(b.Lines)) > s.opts.SegmentSize {
		if err := s.fault("rotate", s.rotate, b.First); err != nil {
			return head, s.poison(err)
		}
	}
	base := s.seg.Size()
	ib := make([]byte, 8*len(b.Ends))
	start := 0
	for i, end := range b.Ends {
		binary.BigEndian.PutUint64(ib[8*i:], uint64(base)+uint64(start))
		start = end
	}
	s.pre.beforeWrite(base, int64(len(b.Lines)))
	if err := s.step("write segment", func() error { return s.seg.Write(b.Lines) }); err != nil {
		return head, s.unwrite(base, err)
	}
	s.pre.afterWrite(s.seg.Size())
	if err := s.step("write index", func() error { return s.index.Write(ib) }); err != nil {
		return head, s.unwrite(base, err)
	}
	if err := s.step("write hashes", func() error { return s.hashes.Write(hashBytes(b.Hashes)) }); err != nil {
		return head, s.unwrite(base, err)
	}
	if err := s.step("sync segment", s.seg.Sync); err != nil {
		return head, s.poison(err)
	}
	if err := s.checkIdentity(false); err != nil {
		return head, s.poison(fmt.Errorf("%w: the batch is not acknowledged", err))
	}
	head = b.Head()
	head.Checkpoint = bytes.Clone(head.Checkpoint) // the caller may reuse b
	s.mu.Lock()
	s.head = head
	s.mu.Unlock()
	s.pub.publish()
	if len(b.Erasures) > 0 {
		if err := s.finishErase(); err != nil {
			// The batch is durable, and so is the journal: the next open
			// finishes the erasure.
			return head, s.poison(fmt.Errorf("erasing: %w (the erasure record is committed; reopening the log finishes the erasure)", err))
		}
	}
	return head, nil
}

// faultHook, when set (by tests, through export_test.go), is called
// before and after each persistence step with the step's name and
// "before" or "after"; an error it returns is reported as that step's
// failure. "after" failures model a write that landed but reported an
// error.
var faultHook func(step, when string) error

// step runs one persistence step under faultHook.
func (s *Store) step(name string, fn func() error) error {
	if faultHook != nil {
		if err := faultHook(name, "before"); err != nil {
			return err
		}
	}
	if err := fn(); err != nil {
		return err
	}
	if faultHook != nil {
		return faultHook(name, "after")
	}
	return nil
}

// fault is step for a function of one argument.
func (s *Store) fault(name string, fn func(uint64) error, arg uint64) error {
	return s.step(name, func() error { return fn(arg) })
}

// poison records the first write failure: from then on the store refuses
// writes, because what reached the disk is unknown.
func (s *Store) poison(err error) error {
	s.mu.Lock()
	first := s.poisoned == nil
	if first {
		s.poisoned = err
	}
	s.mu.Unlock()
	if first {
		s.log.Error("write failed; the log refuses appends until it is reopened", "error", err)
		return fmt.Errorf("%w (%w)", err, store.ErrPoisoned)
	}
	return store.ErrPoisoned
}

// unwrite handles a failed write of a batch (a full disk, most often):
// nothing of it was synced, so it is certainly not committed, and what of
// it reached the segment is taken out again (best effort), so that
// neither a reader nor the next open sees half a batch. The store is
// poisoned all the same.
func (s *Store) unwrite(base int64, err error) error {
	s.pre.detach()
	s.seg.Fd().Truncate(base)
	return s.poison(err)
}

// rotate seals the active segment and starts a new one at first. The
// derived files are made durable before the new segment exists, so that
// a new segment proves them complete up to its first entry. The caller
// holds writeMu.
func (s *Store) rotate(first uint64) error {
	if err := s.seal(); err != nil {
		return err
	}
	s.mu.Lock()
	sealed := s.segs[len(s.segs)-1].first
	s.mu.Unlock()
	if err := s.newSegment(first); err != nil {
		return err
	}
	if s.comp != nil {
		s.comp.enqueue(sealed)
	}
	s.log.Debug("sealed a segment", "first", sealed, "next", first)
	return nil
}

// seal makes the active segment and the derived files durable and cuts
// the segment's preallocated tail.
func (s *Store) seal() error {
	if err := s.index.Sync(); err != nil {
		return err
	}
	if err := s.hashes.Sync(); err != nil {
		return err
	}
	s.pre.detach()
	if err := s.seg.Truncate(s.seg.Size()); err != nil {
		return err
	}
	return s.seg.Sync()
}
