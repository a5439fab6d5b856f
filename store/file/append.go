//go:build unix

package file

import (
	"context"
	"encoding/binary"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/store"
)

// Write appends a batch: one write to the active segment, one each to the
// index and hashes files. It does not wait for the disk; Sync does.
func (s *Store) Write(ctx context.Context, b *store.Batch) error {
	if s.opts.ReadOnly {
		return ErrReadOnly
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.RLock()
	closed, written, poisoned := s.closed, s.written.Size, s.poisoned
	s.mu.RUnlock()
	if poisoned != nil {
		return fmt.Errorf("%w (after: %v)", store.ErrPoisoned, poisoned)
	}
	if closed {
		return store.ErrClosed
	}
	if b.First != written {
		return fmt.Errorf("batch starts at %d but the log has %d entries", b.First, written)
	}
	if len(b.Ends) == 0 {
		return nil
	}
	if s.seg.Size() > 0 && s.seg.Size()+int64(len(b.Lines)) > s.opts.SegmentSize {
		if err := s.fault("rotate", s.rotate, b.First); err != nil {
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
	s.pre.beforeWrite(base, int64(len(b.Lines)))
	if err := s.step("write segment", func() error { return s.seg.Write(b.Lines) }); err != nil {
		return s.poison(err)
	}
	s.pre.afterWrite(s.seg.Size())
	if err := s.step("write index", func() error { return s.index.Write(ib) }); err != nil {
		return s.poison(err)
	}
	if err := s.step("write hashes", func() error { return s.hashes.Write(hashBytes(b.Hashes)) }); err != nil {
		return s.poison(err)
	}
	s.mu.Lock()
	s.written = store.Head{Size: b.First + uint64(len(b.Ends)), LastLeaf: b.LastLeaf, LastTime: b.LastTime, Checkpoint: b.Checkpoint}
	s.mu.Unlock()
	return nil
}

// Sync makes every batch written so far durable (one fdatasync of the
// active segment) and visible to readers.
func (s *Store) Sync(ctx context.Context) (uint64, error) {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	s.mu.RLock()
	target, head, seg, poisoned := s.written, s.head.Size, s.seg, s.poisoned
	s.mu.RUnlock()
	if poisoned != nil {
		return head, fmt.Errorf("%w (after: %v)", store.ErrPoisoned, poisoned)
	}
	if target.Size == head {
		return head, nil
	}
	if err := s.step("sync segment", seg.Sync); err != nil {
		return head, s.poison(err)
	}
	s.mu.Lock()
	s.head = target
	s.mu.Unlock()
	s.pub.publish()
	return target.Size, nil
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

// rotate seals the active segment and starts a new one at first. It holds
// off Sync meanwhile, syncs everything written so far itself, and makes
// the derived files durable before the new segment exists, so that a new
// segment proves them complete up to its first entry.
func (s *Store) rotate(first uint64) error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	if err := s.seal(); err != nil {
		return err
	}
	s.mu.Lock()
	sealed := s.segs[len(s.segs)-1].first
	s.head = s.written
	s.mu.Unlock()
	if err := s.newSegment(first); err != nil {
		return err
	}
	s.pub.publish()
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

var _ tlog.HashReader = (*Store)(nil)
