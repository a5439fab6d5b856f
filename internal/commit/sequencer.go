package commit

import (
	"fmt"
	"runtime"
	"time"

	"github.com/sealog/sealog/format"
)

// sequencer is the one goroutine that orders requests. It builds the next
// batch (seq, time, leaves, hashes, lines) while the committer goroutine
// commits the previous one, on the state the previous one will leave if
// it commits; it closes and signs the batch only when the committer is
// free to take it, so there is one signature and one store append per
// batch, and batches grow with the load.
type sequencer struct {
	c *Committer

	pending *builder // the batch being built; owned by the sequencer
	held    *request // an erasure waiting for the pending batch to go first

	idle    chan *state   // the committer is ready; it sends its committed state, nil if unknown
	batches chan *builder // closed batches, to the committer
	free    chan *builder // recycled builders
	quit    chan struct{} // closed when the sequencer stops

	committed *state // the committer's; read by the sequencer only between idle and batches
}

func newSequencer(c *Committer, st *state) *sequencer {
	s := &sequencer{
		c: c, pending: new(builder), committed: st,
		idle: make(chan *state), batches: make(chan *builder),
		free: make(chan *builder, 4), quit: make(chan struct{}),
	}
	s.pending.reset(st)
	return s
}

func (s *sequencer) start() {
	go s.run()
	go s.commitLoop()
}

// full reports whether the pending batch takes no more requests: it holds
// MaxBatch entries or an erasure (which commits alone), or an erasure is
// waiting for it to go.
func (s *sequencer) full() bool {
	p := s.pending
	return p.entries >= s.c.cfg.MaxBatch || s.held != nil || (len(p.reqs) > 0 && p.reqs[0].alone())
}

func (s *sequencer) run() {
	in := s.c.reqs
	for in != nil || len(s.pending.reqs) > 0 || s.held != nil {
		if len(s.pending.reqs) == 0 && s.held != nil {
			r := s.held
			s.held = nil
			s.add(r)
			continue
		}
		recv := in
		if s.full() {
			recv = nil // wait for the committer
		}
		var idle chan *state
		if len(s.pending.reqs) > 0 {
			idle = s.idle
		}
		select {
		case r, ok := <-recv:
			if !ok {
				in = nil
				continue
			}
			s.add(r)
		case committed := <-idle:
			in = s.gather(in)
			s.finish(committed)
		}
	}
	close(s.quit)
}

// Gathering. Callers that append one event at a time and wait for it
// come back as soon as they are answered, and the committer answers a
// batch's callers before it takes the next batch. So before closing a
// batch the sequencer takes what is queued and, while fewer requests are
// in it than there were callers at once during the last cycle
// (Committer.peak), waits for the others, yielding its processor to them:
// all the callers commit together, one fsync for each round of them. It
// waits as long as they keep coming (one at least every gatherGap), up to
// gatherMax in all, so callers that do not come back (they pause between
// appends, or were done) cost a batch gatherGap rather than the whole
// window. 200 µs lets 64 callers on two processors come back; a longer
// cap only delays a producer that never stops submitting (sealog append
// reading stdin: 2–3 % slower at 500 µs). docs/PERFORMANCE.md has the
// measurements. A lone caller never waits.
const (
	gatherMax = 200 * time.Microsecond
	gatherGap = 25 * time.Microsecond
)

// gather fills the pending batch before it is closed. It returns in, or
// nil once in is closed.
func (s *sequencer) gather(in chan *request) chan *request {
	// The callers seen at once during the last cycle are the ones to
	// expect back; the peak restarts from now for the next cycle.
	target := s.c.peak.Swap(s.c.active.Load())
	var deadline, last time.Time // last: when the batch last grew
	seen := 0
	for !s.full() && in != nil {
		select {
		case r, ok := <-in:
			if !ok {
				return nil
			}
			s.add(r)
			continue
		default:
		}
		n := len(s.pending.reqs)
		if int64(n) >= target {
			return in // everyone is in
		}
		now := time.Now()
		switch {
		case deadline.IsZero():
			deadline = now.Add(gatherMax)
			seen, last = n, now
		case now.After(deadline):
			return in
		case n != seen:
			seen, last = n, now
		case now.Sub(last) > gatherGap:
			return in // nobody came for a while
		}
		runtime.Gosched()
	}
	return in
}

// add folds a request into the pending batch, or answers it at once when
// the engine has failed or the clock is unusable.
func (s *sequencer) add(r *request) {
	if err := s.c.failure(); err != nil {
		s.c.answer(r, err)
		return
	}
	if r.alone() && len(s.pending.reqs) > 0 {
		s.held = r // an erasure or rotation commits alone, after the pending batch
		return
	}
	now, err := s.now()
	if err != nil {
		s.c.answer(r, err)
		return
	}
	s.pending.add(r, now)
}

// alone reports whether the request commits alone in its batch.
func (r *request) alone() bool { return r.erase != nil || r.rotate != nil }

// now reads the clock, refusing times a log cannot record.
func (s *sequencer) now() (time.Time, error) {
	return checkClock(s.c.cfg.Clock())
}

func checkClock(now time.Time) (time.Time, error) {
	if now.Before(time.Unix(0, 0)) || now.After(format.MaxTime) {
		return now, fmt.Errorf("the clock reads %s, outside what a log can record (1970 to 2262); fix the system clock", now.UTC().Format(time.RFC3339))
	}
	return now, nil
}

// finish signs the pending batch and hands it to the committer. If the
// committer's committed state is not the one the batch was built on (the
// batch before it failed, or was re-sequenced after a conflict), the batch
// is rebuilt on it first.
func (s *sequencer) finish(committed *state) {
	p := s.pending
	if committed != nil && !committed.same(&p.base) {
		now, err := s.now()
		if err != nil {
			s.failPending(err)
			return
		}
		p.rebuild(committed, now)
	}
	if err := p.sign(s.c.cfg.Origin); err != nil {
		s.failPending(err)
		return
	}
	next := s.newBuilder()
	next.reset(&p.cur) // before the committer owns p
	s.batches <- p
	s.pending = next
}

// failPending answers every request of the pending batch with err; the
// next batch starts where this one started.
func (s *sequencer) failPending(err error) {
	p := s.pending
	for _, r := range p.reqs {
		s.c.answer(r, err)
	}
	s.c.stats.Failures.Add(1)
	p.reset(&p.base)
	s.batches <- nil // the committer is waiting for a batch: there is none
}

func (s *sequencer) newBuilder() *builder {
	select {
	case b := <-s.free:
		return b
	default:
		return new(builder)
	}
}
