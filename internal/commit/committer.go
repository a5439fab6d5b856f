package commit

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/store"
)

// commitLoop is the committer goroutine: it takes each closed batch as
// soon as it is free, appends it to the store, and answers its callers
// before it takes the next one, so that they can join that one (gather).
// The committer owns committed, the state of the log after its last
// append (nil when unknown, after a failure: it is then reloaded from the
// store before the next append).
//
// One batch is in the store at a time, even for the file store, which
// could write the next batch while this one's fdatasync runs: callers
// that each wait for their own append then fall into two halves that
// alternate, each waiting for two fdatasyncs, and that halves what a
// group commit can do (BenchmarkGroupCommitFloor, groups=two against
// groups=one; docs/PERFORMANCE.md).
func (s *sequencer) commitLoop() {
	defer close(s.c.done)
	for {
		select {
		case s.idle <- s.committed:
		case <-s.quit:
			return
		}
		t0 := time.Now()
		bd := <-s.batches
		s.c.stats.IdleNanos.Add(int64(time.Since(t0)))
		if bd == nil {
			continue
		}
		s.committed = s.commitBatch(bd)
		s.complete(bd)
	}
}

// commitBatch appends bd to the store, re-sequencing it after conflicts,
// and returns the state after it (nil if unknown). On failure it sets
// each request's err; on success their results.
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
			st, err := loadState(ctx, c.cfg.Store, c.knownSigners())
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
			if err := bd.sign(c.cfg.Origin); err != nil {
				return fail(err)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), c.cfg.CommitTimeout)
		t0 := time.Now()
		_, err := c.cfg.Store.Append(ctx, &bd.b)
		c.stats.StoreNanos.Add(int64(time.Since(t0)))
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
			// A writer whose next batch is ready wins every race against
			// one that must reload and re-sign first; a random pause,
			// growing with each loss, lets the loser in, unless the store
			// holds the head for this retry: pausing then would keep
			// every other writer waiting.
			if !conflict.Reserved {
				time.Sleep(backoff(attempt))
			}
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
	note := string(bd.b.Checkpoint) // once per batch: each receipt holds it
	for _, r := range bd.reqs {
		r.size, r.note = bd.cur.size(), note
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
	if len(bd.reqs) > 0 && bd.reqs[0].err == nil {
		if fn := s.c.cfg.Hashes; fn != nil {
			fn(tlog.StoredHashIndex(0, int64(bd.b.First)), bd.b.Hashes)
		}
		if fn := s.c.cfg.Committed; fn != nil {
			fn(bd.reqs[0].size, bd.b.Checkpoint)
		}
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

// backoff returns a random pause of up to 50 µs × 2^attempt (at most
// 5 ms) before retrying after a conflict.
func backoff(attempt int) time.Duration {
	limit := 50 * time.Microsecond << min(attempt, 7)
	return time.Duration(rand.Int64N(int64(min(limit, 5*time.Millisecond))))
}
