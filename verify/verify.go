// Package verify checks a sealog log without trusting its writer: every
// entry's line, body hash and leaf hash, the hash chain, the Merkle tree,
// the erasures and the signed checkpoints, against a verifier key the
// auditor trusts.
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
//	if err != nil { ... }     // the log could not be read at all, or an input is not what it should be
//	if !rep.Valid { ... }     // rep.Verdict, rep.FirstInvalid, rep.Problems say what and where
package verify

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/layout"
)

// Options configure Verify. The zero value verifies against the key
// stored in the log itself.
type Options struct {
	// Key is the verifier key the auditor trusts (note verifier key text,
	// as in the log's .pub file). Empty (and no Keys) means the key stored
	// in the log, which proves only that the log agrees with itself.
	Key string
	// Keys are more verifier keys the auditor trusts: a rotated log
	// (docs/FORMAT.md section 5a) is valid when its chain of keys holds a
	// trusted one, whichever. Key, if set, comes first.
	Keys []string
	// Checkpoints are signed checkpoints obtained outside the log: from
	// receipts, witnesses, or saved earlier with `sealog checkpoint`. Each
	// must be signed by Key and be consistent with the log; the largest
	// rules out truncation below its size. CRLF line ends, a byte order
	// mark and a missing final newline (what mail does to text) are
	// undone first; one that is not a checkpoint of the log signed by Key
	// makes Verify return an *InputError.
	Checkpoints [][]byte
	// AllSignatures verifies every batch signature in the log, not only
	// the ones needed to authenticate it. Slower; the result is the same
	// unless a signature alone was tampered with.
	AllSignatures bool
	// Revocations are revocation statements (docs/KEYS.md): each names a
	// key and a tree size after which nothing the key signs is trusted.
	// The report lists the entries covered only by such signatures
	// (Report.Revoked), and the log is not valid if there are any. Each
	// must be signed by a trusted key other than the one it revokes, or by
	// the key that one handed over to before the point: otherwise Verify
	// returns an *InputError.
	Revocations [][]byte
	// Witnesses are the C2SP cosignature/v1 verifier keys of witnesses
	// the auditor trusts: a trusted checkpoint (Checkpoints) one of them
	// cosigned before a revocation's time still vouches for its entries.
	Witnesses []string
	// ExistedBefore, if set, returns a time before which a trusted
	// checkpoint provably existed (an RFC 3161 timestamp the caller
	// checked), for revocations as Witnesses are.
	ExistedBefore func(c checkpoint.Checkpoint, note []byte) (time.Time, bool)
	// Workers is the number of parsing and hashing goroutines; 0 means
	// GOMAXPROCS.
	Workers int
	// MaxProblems caps Report.Problems; 0 means 1000.
	MaxProblems int
	// MaxErased caps the erased entries checked against their erasure
	// records (each costs about 48 bytes until the end); 0 means 2^20. A
	// log with more is reported incomplete.
	MaxErased int
	// Progress, if set, is called now and then with the bytes read so far
	// and the total.
	Progress func(done, total int64)
	// Timestamps checks the RFC 3161 timestamps the log holds
	// (docs/TIME.md): tstoken.Checker, given the CAs of the TSAs the
	// auditor trusts, or none to check only that each covers the right
	// checkpoint. nil lists them as not checked: the verifier itself links
	// no CMS or X.509 code.
	Timestamps TimestampChecker
}

// InputError is an input to Verify that is not what it should be (a
// trusted checkpoint that is not a signed checkpoint of the log): the
// caller's mistake, not the log's.
type InputError struct {
	What string // "trusted checkpoint 2"
	Err  error
}

func (e *InputError) Error() string { return e.What + ": " + e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// verification is one run of Verify.
type verification struct {
	ctx            context.Context
	src            Source
	opts           Options
	rep            *Report
	v              note.Verifier
	origin, logKey string
	cks            []*ckpt
	segs           []Segment
	ch             *checker
	sr             sigResults
	beyond         uint64   // the largest checkpoint size beyond the log
	badCheckpoints []string // checkpoints whose signature fails, described
	tsrs           []TimestampFile
	pruned         *layout.Pruned // the prune point, if the log was pruned
	wrongKey       bool

	trusted    map[string]bool // keyID of each trusted key
	candidates []candidate     // for the chain's first key (chain.go)
	noLogKey   bool            // the rerun without the log's key as a candidate
	ckFile     []byte          // the checkpoint file, verified once the chain is known
	pendingCks [][]byte        // trusted checkpoints not signed by a trusted key: by a later key of the chain?
	revs       []Revocation    // authenticated revocation statements
	witnesses  []witness
}

// Verify verifies the log that src reads. It returns an error only when
// the log cannot be read at all (missing, not a log, unreadable) or an
// option is malformed (*InputError); a log that fails verification gives
// a Report with Valid false.
//
// With a key from outside the log (Options.Key), a log whose metadata or
// segments are gone is reported as tampered, not as missing: something of
// a log is there, and the key says whose it was.
func Verify(ctx context.Context, src Source, opts Options) (*Report, error) {
	if opts.MaxProblems <= 0 {
		opts.MaxProblems = 1000
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.MaxErased <= 0 {
		opts.MaxErased = 1 << 20
	}
	rep, err := verifyOnce(ctx, src, opts, false)
	if err == errUntrustedChain {
		// The log's own key started a chain that holds no trusted key: say
		// what the trusted key makes of the log, as without a chain.
		rep, err = verifyOnce(ctx, src, opts, true)
	}
	return rep, err
}

var errUntrustedChain = errors.New("the chain holds no trusted key")

func verifyOnce(ctx context.Context, src Source, opts Options, noLogKey bool) (*Report, error) {
	v := &verification{ctx: ctx, src: src, opts: opts, noLogKey: noLogKey}
	if err := v.open(); err != nil {
		return nil, err
	}
	if err := v.read(); err != nil {
		return nil, err
	}
	if err := v.afterChain(); err != nil {
		return nil, err
	}
	if err := v.checkRevocations(); err != nil {
		return nil, err
	}
	v.conclude()
	return v.rep, nil
}

// open reads the metadata, the key, the checkpoints and the segment list.
func (v *verification) open() error {
	opts := v.opts
	origin, logKey, metaErr := v.src.Metadata()
	damagedMeta := errors.Is(metaErr, layout.ErrNotLog) || errors.Is(metaErr, layout.ErrBadMetadata)
	given := opts.Key != "" || len(opts.Keys) > 0 // a key from outside the log
	if metaErr != nil && (!given || !damagedMeta) {
		return metaErr
	}
	v.origin, v.logKey = origin, logKey
	rep := &Report{Origin: origin, Key: opts.Key, Problems: []Problem{}, Gaps: []Gap{}, Warnings: []string{}, ErasedEntries: []ErasedEntry{}, Live: v.src.Live()}
	v.rep = rep
	if opts.Key == "" && len(opts.Keys) == 0 {
		rep.Key, rep.KeyFromLog = logKey, true
	}
	if rep.Key == "" && len(opts.Keys) > 0 {
		rep.Key = opts.Keys[0]
	}
	var err error
	if v.v, err = note.NewVerifier(rep.Key); err != nil {
		if rep.KeyFromLog {
			return fmt.Errorf("the log's own key is malformed: %v", err)
		}
		return fmt.Errorf("malformed verifier key: %v", err)
	}
	if metaErr != nil {
		v.origin, rep.Origin = v.v.Name(), v.v.Name()
	}
	if err := v.trustedKeys(); err != nil {
		return err
	}
	for i, b := range opts.Checkpoints {
		what := fmt.Sprintf("trusted checkpoint %d", i+1)
		c, err := v.trustedCheckpoint(checkpoint.Normalize(b))
		if errors.Is(err, checkpoint.ErrNoSignature) && len(v.pendingCks) < len(opts.Checkpoints) {
			// Perhaps signed by a key the log rotated to: known once the
			// chain is read (afterChain).
			v.pendingCks = append(v.pendingCks, checkpoint.Normalize(b))
			v.cks = append(v.cks, &ckpt{source: "trusted checkpoint", c: c, err: err, pending: len(v.pendingCks)})
			continue
		}
		var oe *checkpoint.OriginError
		switch {
		case errors.Is(err, checkpoint.ErrMalformed):
			return &InputError{What: what, Err: err}
		case errors.As(err, &oe):
			return &InputError{What: what, Err: fmt.Errorf("%w (the key given is for %q)", err, v.v.Name())}
		case err != nil:
			// Not signed by the key: evidence of nothing about the log,
			// and no reason to accuse it.
			return &InputError{What: what, Err: fmt.Errorf("%w %s", err, v.v.Name())}
		}
		v.cks = append(v.cks, &ckpt{source: "trusted checkpoint", c: c, err: err})
	}
	// The checkpoint file is read before the entries, so that a writer at
	// work can only have added entries beyond it.
	ckFile, ckErr := v.src.Checkpoint()
	if ckErr != nil && !errors.Is(ckErr, ErrDamaged) {
		return ckErr
	}
	segs, segErr := v.src.Segments()
	noSegs := errors.Is(segErr, fs.ErrNotExist)
	if segErr != nil && (!noSegs || !given) {
		if noSegs && metaErr == nil {
			return fmt.Errorf("%w: %v", layout.ErrNotLog, segErr)
		}
		return segErr
	}
	if errors.Is(metaErr, layout.ErrNotLog) && noSegs && ckFile == nil && ckErr == nil && len(opts.Checkpoints) == 0 {
		return metaErr // nothing of a log here: not a log, whatever the key
	}
	v.segs = segs
	// Problems found before the entries are read go through a checker
	// later; keep them here.
	pre := []Problem{}
	if metaErr != nil {
		pre = append(pre, Problem{Kind: "metadata", Reason: fmt.Sprintf("the log's metadata is damaged: %v", metaErr)})
	}
	if noSegs {
		pre = append(pre, Problem{Kind: "segment", Reason: fmt.Sprintf("the log's %s directory is gone", layout.SegmentsDir)})
	}
	if ckErr != nil {
		pre = append(pre, Problem{Kind: "checkpoint", Reason: damage(ckErr)})
	}
	for _, d := range v.src.Damage() {
		pre = append(pre, Problem{Kind: "segment", Reason: d})
	}
	rep.Problems = append(rep.Problems, pre...)
	rep.Warnings = append(rep.Warnings, v.src.Warnings()...)
	rep.Segments = len(segs)
	if ckFile != nil {
		v.ckFile = ckFile
		v.cks = append([]*ckpt{openCheckpoint(ckFile, v.v, v.origin, "checkpoint file")}, v.cks...)
	}
	if err := v.openPruned(); err != nil {
		return err
	}
	return v.openTimestamps()
}

// read streams the entries through the checker.
func (v *verification) read() error {
	var targets []uint64
	for _, c := range v.cks {
		if c.err == nil || errors.Is(c.err, checkpoint.ErrBadSignature) || errors.Is(c.err, checkpoint.ErrNoSignature) {
			targets = append(targets, c.c.Size)
		}
	}
	for _, t := range v.tsrs {
		targets = append(targets, t.Size)
	}
	var total int64
	for _, s := range v.segs {
		total += s.Size
	}
	book := newSigBook(v.candidates, v.origin, v.opts.MaxProblems)
	v.ch = newChecker(v.rep, v.segs, v.opts.MaxProblems, targets, book, v.opts.MaxErased)
	if v.pruned != nil {
		v.ch.startPruned(v.pruned)
	}
	var pool *sigPool
	if v.opts.AllSignatures {
		pool = startSigPool(v.ctx, book, v.opts.Workers)
	}
	err := stream(v.ctx, v.segs, v.ch, v.opts, total)
	if err == nil {
		v.ch.finish() // a held line may still carry a signature
	}
	if pool != nil {
		v.sr = poolSigs(pool)
	}
	if err != nil {
		return err
	}
	v.rep.Bytes = total
	if v.ch.timeSet {
		v.rep.FirstTime = formatTime(v.ch.firstTime)
		v.rep.LastTime = formatTime(v.ch.lastTime)
	}
	if pool == nil {
		v.sr = defaultSigs(book)
	}
	return nil
}

// formatTime formats an entry time (Unix nanoseconds) as RFC 3339 in UTC
// with nanoseconds.
func formatTime(ns int64) string {
	return time.Unix(0, ns).UTC().Format("2006-01-02T15:04:05.000000000Z07:00")
}
