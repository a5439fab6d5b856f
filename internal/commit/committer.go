package commit

import (
	"context"
	"errors"
	"fmt"

	"github.com/sealog/sealog/store"
)

// commitLoop is the committer goroutine: it takes each closed batch as
// soon as it is free, appends it to the store, and answers the batch's
// callers. It owns committed, the state of the log as of its last
// append (nil when unknown, after a failure: it is then reloaded from the
// store before the next append).
func (s *sequencer) commitLoop() {
	defer close(s.c.done)
	var done *builder // committed or failed, callers not yet answered
	for {
		// If the sequencer has a batch waiting, let it sign while this
		// goroutine wakes the last batch's callers; if not, wake them first.
		select {
		case s.idle <- s.committed:
			s.complete(done)
		default:
			s.complete(done)
			select {
			case s.idle <- s.committed:
			case <-s.quit:
				return
			}
		}
		if done = <-s.batches; done != nil {
			s.committed = s.commitBatch(done)
		}
	}
}

// commitBatch appends bd to the store, re-sequencing it after conflicts,
// and returns the committed state after it (nil if unknown). On failure
// it sets each request's err; on success their results.
func (s *sequencer) commitBatch(bd *builder) *state {
	c := s.c
	committed := s.committed
	fail := func(err error) *state {
		for _, r := range bd.reqs {
			r.err = err
		}
		c.stats.Failures.Add(1)
		return nil
	}
	for attempt := 0; ; attempt++ {
		if committed == nil {
			ctx, cancel := context.WithTimeout(context.Background(), c.cfg.CommitTimeout)
			st, err := loadState(ctx, c.cfg.Store)
			cancel()
			if err != nil {
				return fail(fmt.Errorf("not committed: %w", err))
			}
			committed = &st
		}
		if !committed.same(&bd.base) {
			now, err := checkClock(c.cfg.Clock())
			if err != nil {
				return fail(err)
			}
			bd.rebuild(committed, now)
			if err := bd.sign(c.cfg.Origin, c.cfg.Signer); err != nil {
				return fail(err)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), c.cfg.CommitTimeout)
		_, err := c.cfg.Store.Append(ctx, &bd.b)
		cancel()
		var conflict *store.ConflictError
		switch {
		case err == nil:
			return s.committedOK(bd)
		case errors.As(err, &conflict):
			c.stats.Conflicts.Add(1)
			if attempt >= c.cfg.MaxRetries {
				return fail(fmt.Errorf("not committed: other writers got in first %d times in a row: %w", attempt+1, err))
			}
			c.log.Debug("append conflict: re-sequencing", "first", bd.b.First, "head", conflict.Head.Size)
			committed = nil // reload the head and tree edge
		case errors.Is(err, store.ErrPoisoned):
			// The store cannot tell what reached the disk: stop until
			// reopened, which recovers.
			c.fail(err)
			c.log.Error("the store refuses writes; appends fail until the log is reopened", "error", err)
			return fail(err)
		default:
			ok, serr := s.settle(bd)
			if serr != nil {
				c.log.Error("append failed and its outcome is unknown", "first", bd.b.First, "error", err, "settle", serr)
				return fail(fmt.Errorf("%w (whether the batch was committed is unknown: %v)", err, serr))
			}
			if ok {
				c.log.Warn("append reported an error but the batch is committed", "first", bd.b.First, "error", err)
				return s.committedOK(bd)
			}
			c.log.Warn("append failed; nothing committed", "first", bd.b.First, "error", err)
			return fail(fmt.Errorf("not committed: %w", err))
		}
	}
}

// settle finds out whether a batch whose append failed was committed:
// its first leaf is in the store at its first seq (leaves commit to their
// salt, so no other writer's entry has the same).
func (s *sequencer) settle(bd *builder) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.c.cfg.CommitTimeout)
	defer cancel()
	h, err := s.c.cfg.Store.Head(ctx)
	if err != nil {
		return false, err
	}
	if h.Size <= bd.b.First {
		return false, nil
	}
	l, err := s.c.cfg.Store.ReadLine(ctx, bd.b.First)
	if err != nil {
		return false, err
	}
	return l.Leaf == bd.b.Leaves[0], nil
}

// committedOK records a committed batch in its requests and returns the
// state after it.
func (s *sequencer) committedOK(bd *builder) *state {
	for _, r := range bd.reqs {
		r.size, r.note = bd.cur.size(), bd.b.Checkpoint
	}
	s.c.stats.Batches.Add(1)
	s.c.stats.Entries.Add(int64(len(bd.b.Ends)))
	st := new(state)
	st.copyFrom(&bd.cur)
	return st
}

// complete answers a batch's callers and recycles its builder.
func (s *sequencer) complete(bd *builder) {
	if bd == nil {
		return
	}
	for _, r := range bd.reqs {
		s.c.answer(r, r.err)
	}
	bd.reqs = bd.reqs[:0]
	select {
	case s.free <- bd:
	default:
	}
}
