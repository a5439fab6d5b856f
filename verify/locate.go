package verify

import (
	"context"
	"fmt"
	"sync"

	"golang.org/x/mod/sumdb/note"

	"github.com/sealog/sealog/checkpoint"
)

// needsSecondPass reports whether a batch signature or a checkpoint's
// root failed while every entry passed its own checks: the entries were
// rewritten consistently, and only the batch signatures can tell from
// where. (A checkpoint whose own signature fails says nothing about the
// entries.)
func needsSecondPass(rep *Report, ch *checker) bool {
	if !ch.treeOK {
		return false
	}
	if t := ch.tailBreak; t != nil && rep.FirstInvalid != nil && *rep.FirstInvalid == *t {
		return true
	}
	if rep.FirstInvalid != nil {
		return false
	}
	if ch.forked {
		return true
	}
	for _, p := range rep.Problems {
		if p.Kind == "signature" {
			return true
		}
	}
	return false
}

// secondPass runs a second pass that verifies every batch signature, to find
// the first batch that is not signed by the key.
func secondPass(ctx context.Context, src Source, rep *Report, v note.Verifier, origin string, opts Options, forked bool, tailBreak *uint64) {
	segs, err := src.Segments()
	if err != nil {
		return
	}
	scratch := &Report{Problems: []Problem{}}
	ch := newChecker(scratch, segs, opts.MaxProblems, nil)
	sigs := startSigVerifier(ctx, v, origin, opts.Workers)
	ch.sigs = sigs.submit
	if err := stream(ctx, segs, ch, Options{Workers: opts.Workers, MaxProblems: opts.MaxProblems}, 0); err != nil {
		sigs.wait()
		return
	}
	first, n := sigs.wait()
	rep.Signatures += n
	if first == nil {
		if forked {
			rep.Problems = append(rep.Problems, Problem{Kind: "checkpoint", Reason: "every batch signature in the log verifies, yet a checkpoint signed by the same key disagrees with the log: the key signed two different histories (a fork)"})
		}
		return
	}
	rep.Authenticated = max(rep.Authenticated, first.from) // the batches before it verified
	seq := first.from
	p := Problem{Seq: &seq, Kind: "signature", Segment: first.at.seg, Line: first.at.line, Reason: badSigReason(first)}
	if t := tailBreak; t != nil && *t > 0 && first.size-1 >= *t-1 {
		// The chain breaks only between the last two entries, and the
		// failing batch holds entry n-1: the change is in entry n-1 or n.
		seq = *t - 1
		p.Reason = fmt.Sprintf("entry %d or entry %d was changed: the signature on their batch does not verify, and the chain breaks between them", seq, *t)
		if first.size-1 == seq {
			p.Reason = fmt.Sprintf("entry %d was changed: the signature on it does not verify, and entry %d does not chain to it", seq, *t)
		}
	}
	rep.Problems = append(rep.Problems, p)
	if rep.FirstInvalid == nil || seq <= *rep.FirstInvalid {
		rep.FirstInvalid, rep.FirstProblem = &seq, &rep.Problems[len(rep.Problems)-1]
	}
	rep.Tampered += int(first.size - first.from)
}

// badSigReason explains the first batch signature that fails.
func badSigReason(b *badSig) string {
	if b.from == 0 {
		return fmt.Sprintf("not even the first batch signature (on entry %d) verifies with the key: the log was signed by another key (was the right key given?), or re-signed from its start", b.size-1)
	}
	if b.from == b.size-1 {
		return fmt.Sprintf("the signature on entry %d does not verify with the key, while those before it do: entry %d was changed", b.from, b.from)
	}
	return fmt.Sprintf("the batch signature on entry %d does not verify with the key, while those before it do: entries %d to %d were rewritten (one signature covers the whole batch, so the exact entry cannot be told)", b.size-1, b.from, b.size-1)
}

// sigVerifier checks batch signatures on a pool of goroutines and keeps
// the first (lowest) failure.
type sigVerifier struct {
	v      note.Verifier
	origin string
	jobs   chan sigPoint
	wg     sync.WaitGroup
	mu     sync.Mutex
	first  *badSig
	n      int
	prev   uint64 // size of the previous signature submitted (the batch start)
}

type badSig struct {
	from, size uint64
	at         place
}

func startSigVerifier(ctx context.Context, v note.Verifier, origin string, workers int) *sigVerifier {
	s := &sigVerifier{v: v, origin: origin, jobs: make(chan sigPoint, 64)}
	for range workers {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			for p := range s.jobs {
				ok := checkpoint.VerifyText(s.v, checkpoint.Checkpoint{Origin: s.origin, Size: p.size, Root: p.root}.Text(), p.sig)
				s.mu.Lock()
				s.n++
				if !ok && (s.first == nil || p.size < s.first.size) {
					s.first = &badSig{from: p.at.seq, size: p.size, at: p.at}
				}
				s.mu.Unlock()
			}
		}()
	}
	return s
}

// submit queues a signature; p.at.seq is replaced by the batch's first seq.
func (s *sigVerifier) submit(p *sigPoint) {
	if !p.ok {
		return
	}
	q := *p
	q.at.seq = s.prev
	s.prev = p.size
	s.jobs <- q
}

func (s *sigVerifier) wait() (*badSig, int) {
	close(s.jobs)
	s.wg.Wait()
	return s.first, s.n
}
