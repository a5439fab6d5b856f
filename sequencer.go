package sealog

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/tree"
)

// request is one Append or AppendBatch call waiting to be committed.
type request struct {
	evs  []prepared
	done chan struct{}

	// Set by the sequencer and committer before done is closed.
	first  uint64 // seq of evs[0]
	time   int64
	leaves []tlog.Hash
	size   uint64 // tree size of the batch's checkpoint
	note   []byte // the batch's signed checkpoint
	err    error
}

// prepared is an event encoded and committed to by the caller's goroutine,
// so that the sequencer only assigns position and time.
type prepared struct {
	salt  [format.SaltSize]byte
	event []byte
	body  tlog.Hash
}

// batch is a signed group of requests on its way to the store.
type batch struct {
	store.Batch
	reqs []*request
}

// sequencer is the one goroutine that orders entries. It builds the next
// batch (seq, time, leaf hashes, tree hashes, lines) while the committer
// goroutine writes and fsyncs the previous one, and closes and signs the
// batch only when the committer is free to take it.
type sequencer struct {
	log *Log

	// Tree state after the pending batch. Owned by the sequencer.
	edge     tree.Edge
	next     uint64
	last     tlog.Hash
	lastTime int64

	// The pending batch and the state before it (for rollback).
	pending batch
	entries int
	before  tree.Edge
	beforeN uint64
	beforeL tlog.Hash
	beforeT int64
	scratch []tlog.Hash

	idle    chan struct{} // the committer is ready for a batch
	batches chan *batch
	free    chan *batch   // recycled batch buffers
	quit    chan struct{} // closed when the sequencer stops
}

func (s *sequencer) start() {
	s.idle = make(chan struct{})
	s.batches = make(chan *batch)
	s.free = make(chan *batch, 4)
	s.quit = make(chan struct{})
	s.reset()
	go s.run()
	go s.commit()
}

func (s *sequencer) run() {
	in := s.log.reqs
	max := s.log.opts.MaxBatch
	for in != nil || len(s.pending.reqs) > 0 {
		recv := in
		if s.entries >= max {
			recv = nil // full: wait for the committer
		}
		var idle chan struct{}
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
		case <-idle:
			in = s.gather(in, max)
			s.finish()
		}
	}
	close(s.quit)
}

// Gathering. Callers that append one event at a time and wait for it fall
// into step with the commits: half of them wait in the batch being
// committed while the other half fill the next one, so a batch holds half
// of them and each waits for two fsyncs. So before closing a batch the
// sequencer takes what is queued and, while fewer requests are in it than
// there were callers at once during the last cycle (Log.peak), waits for
// the others a little (gatherMax at most), yielding its processor to
// them: the callers just answered come back in time to join the batch. A
// lone caller never waits.
const gatherMax = 100 * time.Microsecond

// gather fills the pending batch before it is closed. It returns in, or
// nil once in is closed.
func (s *sequencer) gather(in chan *request, max int) chan *request {
	// The callers seen at once during the last cycle are the ones to
	// expect back; the peak restarts from now for the next cycle.
	target := s.log.peak.Swap(s.log.active.Load())
	var deadline time.Time
	for s.entries < max && in != nil {
		select {
		case r, ok := <-in:
			if !ok {
				return nil
			}
			s.add(r)
			continue
		default:
		}
		if int64(len(s.pending.reqs)) >= target {
			return in // everyone is in
		}
		now := time.Now()
		if deadline.IsZero() {
			deadline = now.Add(gatherMax)
		} else if now.After(deadline) {
			return in
		}
		runtime.Gosched()
	}
	return in
}

// add assigns positions and time to a request's events and folds them into
// the pending batch.
func (s *sequencer) add(r *request) {
	if err := s.log.failure(); err != nil {
		r.err = fmt.Errorf("sealog: %w", err)
		s.log.active.Add(-1)
		close(r.done)
		return
	}
	now := s.log.clock()
	if now.Before(time.Unix(0, 0)) || now.After(format.MaxTime) {
		r.err = fmt.Errorf("sealog: the clock reads %s, outside what a log can record (1970 to 2262); fix the system clock", now.UTC().Format(time.RFC3339))
		s.log.active.Add(-1)
		close(r.done)
		return
	}
	t := now.UnixNano()
	if t < s.lastTime {
		t = s.lastTime // the clock stepped back: time never decreases in a log
	}
	r.first, r.time = s.next, t
	r.leaves = make([]tlog.Hash, len(r.evs))
	b := &s.pending.Batch
	for i := range r.evs {
		ev := &r.evs[i]
		h := format.Header{Seq: s.next, Time: t, Prev: s.last, BodyHash: ev.body}
		leaf := h.LeafHash()
		s.scratch = s.edge.Append(leaf, s.scratch[:0])
		b.Hashes = append(b.Hashes, s.scratch...)
		line := format.Line{Seq: s.next, Time: t, Prev: s.last, Salt: ev.salt, Event: ev.event}
		b.Lines = format.AppendLine(b.Lines, &line)
		b.Ends = append(b.Ends, len(b.Lines))
		r.leaves[i] = leaf
		s.last = leaf
		s.next++
	}
	s.lastTime = t
	s.entries += len(r.evs)
	s.pending.reqs = append(s.pending.reqs, r)
}

// finish signs the pending batch's checkpoint, puts the signature on the
// batch's last line and hands the batch to the committer.
func (s *sequencer) finish() {
	b := &s.pending
	text := checkpoint.Checkpoint{Origin: s.log.origin, Size: s.next, Root: s.edge.Root()}.Text()
	sig, err := checkpoint.SignText(text, s.log.key.signer)
	if err != nil {
		// Nothing was written: roll the tree back and fail the batch.
		s.edge.CopyFrom(&s.before)
		s.next, s.last, s.lastTime = s.beforeN, s.beforeL, s.beforeT
		for _, r := range b.reqs {
			r.err = fmt.Errorf("sealog: %w", err)
			s.log.active.Add(-1)
			close(r.done)
		}
		s.reset()
		return
	}
	lines := b.Lines[:len(b.Lines)-2] // drop the last line's "}\n"
	lines = format.AppendSig(lines, sig)
	b.Lines = append(lines, '}', '\n')
	b.Ends[len(b.Ends)-1] = len(b.Lines)
	b.First = s.beforeN
	b.Checkpoint = checkpoint.Assemble(text, s.log.origin, sig)
	b.LastLeaf, b.LastTime = s.last, s.lastTime
	full := new(batch)
	*full = *b
	s.batches <- full
	s.reset()
}

// reset starts an empty pending batch, reusing a recycled buffer if any.
func (s *sequencer) reset() {
	var nb batch
	select {
	case old := <-s.free:
		nb.Lines, nb.Ends, nb.Hashes, nb.reqs = old.Lines[:0], old.Ends[:0], old.Hashes[:0], old.reqs[:0]
	default:
	}
	s.pending = nb
	s.entries = 0
	s.before.CopyFrom(&s.edge)
	s.beforeN, s.beforeL, s.beforeT = s.next, s.last, s.lastTime
}

// commit is the committer goroutine: it takes each closed batch as soon as
// it is free, writes it and syncs it, and answers the batch's callers. The
// sequencer closes a batch only when the committer is free, so there is
// one signature and one fsync per batch, and batches grow with the load
// (requests that arrive during a commit all go into the next batch).
func (s *sequencer) commit() {
	defer close(s.log.seqDone)
	ctx := context.Background()
	var done *batch // committed, callers not yet answered
	var doneErr error
	for {
		// If the sequencer has a batch waiting, let it sign while this
		// goroutine wakes the last batch's callers; if not, wake them first.
		select {
		case s.idle <- struct{}{}:
			if done != nil {
				s.complete(done, doneErr)
			}
		default:
			if done != nil {
				s.complete(done, doneErr)
			}
			select {
			case s.idle <- struct{}{}:
			case <-s.quit:
				return
			}
		}
		done = nil
		b := <-s.batches
		err := s.log.st.Write(ctx, &b.Batch)
		if err == nil {
			_, err = s.log.st.Sync(ctx)
		}
		if err != nil {
			s.log.fail(err)
			err = fmt.Errorf("sealog: %w", err)
		}
		done, doneErr = b, err
	}
}

// complete answers a batch's callers and recycles its buffers.
func (s *sequencer) complete(b *batch, err error) {
	size := b.First + uint64(len(b.Ends))
	for _, r := range b.reqs {
		r.err, r.size, r.note = err, size, b.Checkpoint
		s.log.active.Add(-1)
		close(r.done)
	}
	b.reqs = b.reqs[:0]
	select {
	case s.free <- b:
	default:
	}
}
