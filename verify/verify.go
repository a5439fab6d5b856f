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
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"golang.org/x/mod/sumdb/note"
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
			analyzeChunks(work)
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
