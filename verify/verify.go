// Package verify checks a sealog log without trusting its writer: every
// entry's line, body hash and leaf hash, the hash chain, the Merkle tree,
// and the signed checkpoints, against a verifier key the auditor trusts.
//
// It streams: memory stays flat whatever the log's size, and parsing and
// hashing run on every core. It imports the format and proof code, never
// the writer or a store, so it shares no code path with what it checks
// beyond the definition of the format itself.
//
//	rep, err := verify.Verify(ctx, verify.Dir("audit-log"), verify.Options{
//		Key:         string(pubKey),     // the log's verifier key, from the auditor's own records
//		Checkpoints: [][]byte{savedCkpt}, // a checkpoint saved earlier: rules out truncation
//	})
//	if err != nil { ... }     // the log could not be read at all
//	if !rep.Valid { ... }     // rep.FirstInvalid, rep.Problems say what and where
package verify

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/tree"
)

// Options configure Verify. The zero value verifies against the key
// stored in the log itself.
type Options struct {
	// Key is the verifier key the auditor trusts (note verifier key text,
	// as in the log's .pub file). Empty means the key stored in the log,
	// which proves only that the log agrees with itself.
	Key string
	// Checkpoints are signed checkpoints obtained outside the log: from
	// receipts, witnesses, or saved earlier with `sealog checkpoint`. Each
	// must be signed by Key and be consistent with the log; the largest
	// rules out truncation below its size.
	Checkpoints [][]byte
	// AllSignatures verifies every batch signature in the log, not only
	// the ones needed to authenticate it. Slower; the result is the same
	// unless a signature alone was tampered with.
	AllSignatures bool
	// Workers is the number of parsing and hashing goroutines; 0 means
	// GOMAXPROCS.
	Workers int
	// MaxProblems caps Report.Problems; 0 means 1000.
	MaxProblems int
	// Progress, if set, is called now and then with the bytes read so far
	// and the total.
	Progress func(done, total int64)
}

// Verify verifies the log that src reads. It returns an error only when
// the log cannot be read at all (missing, not a log, unreadable); a log
// that fails verification gives a Report with Valid false.
func Verify(ctx context.Context, src Source, opts Options) (*Report, error) {
	if opts.MaxProblems <= 0 {
		opts.MaxProblems = 1000
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	origin, logKey, err := src.Metadata()
	if err != nil {
		return nil, err
	}
	rep := &Report{Origin: origin, Key: opts.Key, Problems: []Problem{}, Gaps: []Gap{}, Warnings: []string{}, Live: src.Live()}
	if opts.Key == "" {
		rep.Key, rep.KeyFromLog = logKey, true
	}
	v, err := note.NewVerifier(rep.Key)
	if err != nil {
		if rep.KeyFromLog {
			return nil, fmt.Errorf("the log's own key is malformed: %v", err)
		}
		return nil, fmt.Errorf("malformed verifier key: %v", err)
	}
	if v.Name() != origin {
		p := Problem{Kind: "key", Reason: fmt.Sprintf("the verifier key is for %q, but the log's origin is %q: no signature can verify", v.Name(), origin)}
		rep.Problems = append(rep.Problems, p)
	}
	// The checkpoint file is read before the entries, so that a writer
	// at work can only have added entries beyond it.
	ckFile, err := src.Checkpoint()
	if err != nil {
		return nil, err
	}
	segs, err := src.Segments()
	if err != nil {
		return nil, err
	}
	rep.Warnings = append(rep.Warnings, src.Warnings()...)
	rep.Segments = len(segs)
	var total int64
	for _, s := range segs {
		total += s.Size
	}

	vs := note.VerifierList(v)
	var cks []*ckpt
	if ckFile != nil {
		cks = append(cks, openCheckpoint(ckFile, vs, origin, "checkpoint file"))
	}
	for _, b := range opts.Checkpoints {
		cks = append(cks, openCheckpoint(b, vs, origin, "trusted checkpoint"))
	}
	var targets []uint64
	for _, c := range cks {
		if c.err == nil {
			targets = append(targets, c.c.Size)
		}
	}

	ch := newChecker(rep, segs, opts.MaxProblems, targets)
	var sigs *sigVerifier
	if opts.AllSignatures {
		sigs = startSigVerifier(ctx, v, origin, opts.Workers)
		ch.sigs = sigs.submit
	}
	if err := stream(ctx, segs, ch, opts, total); err != nil {
		if sigs != nil {
			sigs.wait()
		}
		return nil, err
	}
	rep.Bytes = total
	ch.finish()
	conclude(rep, ch, cks, v, origin, sigs)
	ch.firstInvalid()
	if needsSecondPass(rep, ch) && v.Name() == origin {
		secondPass(ctx, src, rep, v, origin, opts, ch.forked, ch.tailBreak)
	}
	rep.Valid = len(rep.Problems) == 0 && rep.ProblemsOmitted == 0
	return rep, nil
}

// stream runs the reader, the workers and the checker over the segments.
func stream(ctx context.Context, segs []Segment, ch *checker, opts Options, total int64) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// At most about 3×Workers chunks are in flight: that, and chunkSize,
	// is the verifier's memory.
	work := make(chan *chunk, opts.Workers)
	ordered := make(chan *chunk, 2*opts.Workers)
	var read atomic.Int64
	go readSegments(ctx, segs, work, ordered, &read)
	var wg sync.WaitGroup
	for range opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work1(work)
		}()
	}
	defer wg.Wait()
	n := 0
	for c := range ordered {
		<-c.done
		if c.readErr != nil {
			cancel()
			for range ordered {
			}
			return fmt.Errorf("reading segment %s: %w", segs[c.seg].Name, c.readErr)
		}
		if c.end {
			ch.segmentEnd(c, c.seg == len(segs)-1)
			continue
		}
		sg := segs[c.seg]
		for i := range c.res {
			ch.line(&c.res[i], place{segi: c.seg, seg: sg.Name, line: c.line + i})
		}
		c.release()
		if n++; opts.Progress != nil && n%16 == 0 {
			opts.Progress(read.Load(), total)
		}
	}
	if opts.Progress != nil {
		opts.Progress(read.Load(), total)
	}
	return ctx.Err()
}

func work1(in <-chan *chunk) { work(in) }

// ckpt is a signed checkpoint to check the log against.
type ckpt struct {
	source string
	raw    []byte
	c      checkpoint.Checkpoint
	err    error
}

func openCheckpoint(b []byte, vs note.Verifiers, origin, source string) *ckpt {
	c, _, err := checkpoint.Open(b, vs, origin)
	return &ckpt{source: source, raw: b, c: c, err: err}
}

// conclude checks the signatures and checkpoints against the tree and
// works out what is authenticated.
func conclude(rep *Report, ch *checker, cks []*ckpt, v note.Verifier, origin string, sigs *sigVerifier) {
	present := ch.next
	var best *CheckpointInfo
	consider := func(ci CheckpointInfo) {
		if ci.Status == "ok" && (best == nil || ci.Size > best.Size || ci.Size == best.Size && ci.Source != "log") {
			c := ci
			best = &c
			rep.Authenticated = max(rep.Authenticated, ci.Size)
		}
	}
	var firstBad *badSig
	if sigs != nil {
		var n int
		firstBad, n = sigs.wait()
		rep.Signatures += n
		if firstBad != nil {
			ch.problem(ptr(firstBad.from), "signature", &firstBad.at, badSigReason(firstBad))
		}
	}
	if p := ch.sig; p.sig != nil {
		ci := CheckpointInfo{Source: "log", Size: p.size, Root: p.root}
		switch {
		case !p.ok:
			ci.Status = "not checked"
		case sigs != nil && firstBad == nil:
			ci.Status = "ok" // verified with all the others
		case sigs == nil && checkpoint.VerifyText(v, checkpoint.Checkpoint{Origin: origin, Size: p.size, Root: p.root}.Text(), p.sig):
			ci.Status = "ok"
			rep.Signatures++
		default:
			ci.Status = "bad signature"
			ch.problem(nil, "signature", &p.at, fmt.Sprintf("the newest batch signature (on entry %d) does not verify with the key", p.size-1))
		}
		consider(ci)
		// When entries went bad before it, the newest signature made
		// while the tree was still intact still authenticates the entries
		// before the damage.
		if g := ch.goodSig; ci.Status == "not checked" && g.sig != nil && sigs == nil &&
			checkpoint.VerifyText(v, checkpoint.Checkpoint{Origin: origin, Size: g.size, Root: g.root}.Text(), g.sig) {
			rep.Signatures++
			rep.Authenticated = max(rep.Authenticated, g.size)
		}
	}
	for _, k := range cks {
		ci := CheckpointInfo{Source: k.source, Size: k.c.Size, Root: k.c.Root}
		switch root, reached := ch.targets[k.c.Size]; {
		case k.err != nil:
			ci.Status = "bad signature"
			ch.problem(nil, "checkpoint", nil, fmt.Sprintf("%s: %v", k.source, k.err))
		case k.c.Size > present:
			ci.Status = "beyond the log"
			rep.Truncated = true
			rep.Signatures++
			ch.problem(ptr(present), "truncated", nil, fmt.Sprintf("the %s covers %d entries but the log holds %d: entries %d to %d were removed", k.source, k.c.Size, present, present, k.c.Size-1))
			if k.source == "trusted checkpoint" {
				rep.TruncationChecked = true
			}
		case !reached || root == nil:
			ci.Status = "not checked"
			rep.Signatures++
		case *root != k.c.Root:
			ci.Status = "root mismatch"
			rep.Signatures++
			ch.forked = true
			ch.problem(nil, "checkpoint", nil, fmt.Sprintf("the %s for the first %d entries does not match them: they were changed after it was signed", k.source, k.c.Size))
		default:
			ci.Status = "ok"
			rep.Signatures++
			if k.source == "trusted checkpoint" {
				rep.TruncationChecked = true
			}
		}
		if k.source == "trusted checkpoint" {
			rep.Trusted = append(rep.Trusted, ci)
		}
		consider(ci)
	}
	rep.Checkpoint = best
	if rep.Authenticated < present && len(rep.Problems) == 0 {
		rep.Unsigned = present - rep.Authenticated
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("entries %d to %d are not covered by any signature: the writer never acknowledged them (it crashed mid-batch, or is writing now) or someone else added them; they are not part of the verified log",
			rep.Authenticated, present-1))
	}
	if ckFile := fileCheckpoint(rep, cks); ckFile != nil && ckFile.Status == "ok" && ckFile.Size < rep.Authenticated {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("the checkpoint file covers %d entries, fewer than the log's signatures (%d): the writer did not close the log, or the file was rolled back", ckFile.Size, rep.Authenticated))
	}
	rep.ChainIntact = true
	for _, p := range rep.Problems {
		switch p.Kind {
		case "malformed", "gap", "order", "duplicate", "chain", "content", "time", "segment":
			rep.ChainIntact = false
		}
	}
	if present == 0 && rep.Entries == 0 {
		rep.Warnings = append(rep.Warnings, "the log has no entries")
	}
	switch {
	case rep.TruncationChecked:
	case len(rep.Trusted) > 0:
		rep.Warnings = append(rep.Warnings, "truncation not ruled out: the checkpoints given from outside the log could not be checked (the entries before their size are already bad, or their signatures fail)")
	default:
		rep.Warnings = append(rep.Warnings, "truncation not ruled out: no checkpoint from outside the log was given (a receipt's, a witness's, or one saved earlier, e.g. with `sealog checkpoint`)")
	}
	if rep.KeyFromLog {
		rep.Warnings = append(rep.Warnings, "verified with the key stored in the log: this proves the log is consistent with that key, not that the key is the right one (give the verifier the key you trust)")
	}
}

func fileCheckpoint(rep *Report, cks []*ckpt) *CheckpointInfo {
	for _, k := range cks {
		if k.source == "checkpoint file" && k.err == nil {
			return &CheckpointInfo{Size: k.c.Size, Status: "ok"}
		}
	}
	return nil
}

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

var (
	_ = errors.New
	_ = tree.EmptyRoot
	_ tlog.Hash
)
