//go:build unix

package file

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	"github.com/sealog/sealog/store"
)

// Append commits a batch if it starts at the log's size: it stages the
// batch (Stage) and waits for it to be durable.
func (s *Store) Append(ctx context.Context, b *store.Batch) (store.Head, error) {
	wait, err := s.Stage(ctx, b)
	if err != nil {
		return s.headNow(), err
	}
	return wait()
}

// maxUnsynced is how many batches may be written and not yet synced at
// once: the one whose fdatasync runs and the one staged behind it.
// Recovery's reading of a crashed tail rests on it (tail.go).
const maxUnsynced = 2

// Stage writes a batch that starts at the log's staged size (the
// committed size plus the batches staged and not yet durable): one write
// to the active segment, one each to the index and hashes files. It does
// not wait for the fdatasync: the returned wait does (syncTo), so a
// caller could write the next batch while this one's sync runs. The
// engine does not (it commits one batch at a time: internal/commit), but
// logs written by earlier versions did, so recovery still allows for two
// batches in flight (tail.go). Readers do not
// see a staged batch (Head and every read stop at the durable head)
// until its wait, or a later batch's, has synced it and checked that the
// files are still the log's. One process writes a log (flock), so a
// conflict here means the caller's view of the head is stale, not that
// another writer raced it.
//
// A batch with erasures is committed synchronously: the batches staged
// before it are synced first, and the erasures applied before Stage
// returns (erase.go).
func (s *Store) Stage(ctx context.Context, b *store.Batch) (wait func() (store.Head, error), err error) {
	if s.opts.ReadOnly {
		return nil, store.ErrReadOnly
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.RLock()
	closed, staged, poisoned := s.closed, s.staged, s.poisoned
	s.mu.RUnlock()
	switch {
	case closed:
		return nil, store.ErrClosed
	case poisoned != nil:
		return nil, fmt.Errorf("%w (after: %v)", store.ErrPoisoned, poisoned)
	case b.First != staged.Size:
		return nil, &store.ConflictError{First: b.First, Head: staged}
	case len(b.Ends) == 0 || len(b.Leaves) != len(b.Ends):
		return nil, fmt.Errorf("malformed batch: %d lines, %d leaves", len(b.Ends), len(b.Leaves))
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	erasing := len(b.Erasures) > 0
	// At most maxUnsynced batches unsynced: if the batch before the last
	// staged one is not durable yet, sync (never with the engine, which
	// waits for each batch before it writes the next). Before
	// erasures, everything: they are checked against, and rewrite,
	// durable segments only.
	if s.headNow().Size < s.stagedFirst || erasing && s.headNow().Size < staged.Size {
		if _, err := s.syncTo(staged.Size); err != nil {
			return nil, err
		}
	}
	if erasing {
		// Checked before anything is written: a bad erasure fails the
		// whole batch with nothing committed.
		if err := s.prepareErase(ctx, b); err != nil {
			return nil, err
		}
	}
	if s.seg.Size() > 0 && s.seg.Size()+int64(len(b.Lines)) > s.opts.SegmentSize {
		if err := s.fault("rotate", s.rotate, b.First); err != nil {
			return nil, s.poison(err)
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
		return nil, s.unwrite(base, err)
	}
	s.pre.afterWrite(s.seg.Size())
	if err := s.step("write index", func() error { return s.index.Write(ib) }); err != nil {
		return nil, s.unwrite(base, err)
	}
	if err := s.step("write hashes", func() error { return s.hashes.Write(hashBytes(b.Hashes)) }); err != nil {
		return nil, s.unwrite(base, err)
	}
	head := b.Head()
	head.Checkpoint = bytes.Clone(head.Checkpoint) // the caller may reuse b
	s.mu.Lock()
	s.staged, s.stagedFirst = head, b.First
	s.mu.Unlock()
	if !erasing {
		return func() (store.Head, error) { return s.syncTo(head.Size) }, nil
	}
	if _, err := s.syncTo(head.Size); err != nil {
		return nil, err
	}
	if err := s.finishErase(); err != nil {
		// The batch is durable, and so is the journal: the next open
		// finishes the erasure.
		return nil, s.poison(fmt.Errorf("erasing: %w (the erasure record is committed; reopening the log finishes the erasure)", err))
	}
	return func() (store.Head, error) { return head, nil }, nil
}

// syncTo makes the log durable up to size and moves the head there (or
// past it): one fdatasync of the active segment, which covers every batch
// staged in it so far (batches in segments sealed since were synced when
// they were sealed), then the identity check — a batch written to files
// that are no longer the log's is lost, and must not be acknowledged —
// and then the head moves to what was staged when the sync started, and
// readers see it. The batch's last line carries the signed checkpoint of
// the tree after it, so this one sync makes entries and signature durable
// together. A failed sync poisons the store: after a failed fsync Linux
// may have dropped the dirty pages, and a retry would report success for
// data that is gone. syncTo holds syncMu, never writeMu, so a batch can
// be staged meanwhile.
func (s *Store) syncTo(size uint64) (store.Head, error) {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	s.mu.RLock()
	head, staged, poisoned, closed := s.head, s.staged, s.poisoned, s.closed
	s.mu.RUnlock()
	switch {
	case head.Size >= size:
		return head, nil
	case poisoned != nil:
		return head, fmt.Errorf("%w (after: %v)", store.ErrPoisoned, poisoned)
	case closed:
		return head, store.ErrClosed
	}
	if err := s.step("sync segment", s.seg.Sync); err != nil {
		return head, s.poison(err)
	}
	if err := s.checkIdentity(false); err != nil {
		return head, s.poison(fmt.Errorf("%w: the batch is not acknowledged", err))
	}
	s.mu.Lock()
	s.head = staged
	s.mu.Unlock()
	s.pub.publish()
	return staged, nil
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
	// No sync runs while the active segment changes; the seal syncs the
	// batches staged in the old one.
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
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
