// Package integrity checks a log at start-up, before an application
// appends to it: that nobody changed, removed or inserted entries while
// it was not running.
//
//	l, err := sealog.Open(dir, sealog.Options{Key: key, Check: integrity.Startup(integrity.Options{
//		StateFile: "audit-state.ckpt", // the last checkpoint verified, kept between runs
//		Logger:    logger,
//	})})
//
// The check proves the log's signed head consistent with the checkpoint
// the previous run verified (kept in Options.StateFile): the log was
// neither rewritten nor cut back since. Then it checks every entry after
// that checkpoint (Scope Tail), or every entry (Scope All): each line
// must parse, hash to a leaf of the tree the head's checkpoint signs, and
// chain to the one before it. Last it saves the head's checkpoint in the
// state file for the next run. Without a state file (or on the first run,
// before there is one) Tail checks all entries.
//
// A check over the file store can also run the independent verifier
// (package verify) over the log's directory (Options.Dir), which checks
// every batch signature and every erasure too.
package integrity

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/internal/durable"
	"github.com/sealog/sealog/verify"
)

// Scope says which entries a check reads.
type Scope int

const (
	// Tail checks the entries after the last checkpoint verified (all of
	// them when there is none).
	Tail Scope = iota
	// All checks every entry.
	All
)

// String returns "tail" or "all".
func (s Scope) String() string {
	if s == All {
		return "all"
	}
	return "tail"
}

// Options configure a check.
type Options struct {
	Scope Scope
	// StateFile holds the last checkpoint verified, between runs: read
	// at the start of a check (a missing file is a first run), written
	// durably at its end.
	StateFile string
	// Trusted, if set, is a signed checkpoint of the log obtained from
	// outside it (a witness, a receipt); the log must be consistent with
	// it too. With Scope Tail the entries after the larger of it and the
	// state file's are checked.
	Trusted []byte
	// Dir, if set, is the log's directory (the file store): the check
	// also runs the independent verifier over it, with the log's key and
	// the trusted checkpoints.
	Dir string
	// Logger receives the report (INFO) or the failure (ERROR); nil is
	// silent.
	Logger *slog.Logger
}

// ErrIntegrity marks a check that found the log not intact.
var ErrIntegrity = errors.New("integrity check failed")

// Report is the outcome of a check that passed.
type Report struct {
	Scope Scope
	// Size is the log's size; From the first entry checked (Checked
	// entries from there to Size).
	Size, From, Checked uint64
	// TrustedSize is the size of the checkpoint the head was proven
	// consistent with, 0 for none.
	TrustedSize uint64
	// Verified says the independent verifier ran over Options.Dir.
	Verified bool
	Duration time.Duration
}

// Startup returns a check for sealog.Options.Check.
func Startup(opts Options) func(context.Context, *sealog.Log) error {
	return func(ctx context.Context, l *sealog.Log) error {
		_, err := Check(ctx, l, opts)
		return err
	}
}

// Check checks l as the package doc says. A log that fails is an error
// wrapping ErrIntegrity that names what is wrong; an error without it is
// a failure to read the log or the state file.
func Check(ctx context.Context, l *sealog.Log, opts Options) (Report, error) {
	start := time.Now()
	rep, err := check(ctx, l, opts)
	rep.Duration = time.Since(start)
	if lg := opts.Logger; lg != nil {
		if err != nil {
			lg.Error("sealog start-up check failed", "origin", l.Origin(), "err", err)
		} else {
			lg.Info("sealog start-up check passed", "origin", l.Origin(), "scope", rep.Scope.String(), "size", rep.Size,
				"checked_from", rep.From, "checked", rep.Checked, "consistent_with", rep.TrustedSize, "verified_dir", rep.Verified, "took", rep.Duration)
		}
	}
	return rep, err
}

func check(ctx context.Context, l *sealog.Log, opts Options) (Report, error) {
	rep := Report{Scope: opts.Scope}
	v, err := note.NewVerifier(l.VerifierKey())
	if err != nil {
		return rep, fmt.Errorf("the log's verifier key: %w", err)
	}
	h, err := l.Head(ctx)
	if err != nil {
		return rep, fmt.Errorf("%w: the log's head: %w", ErrIntegrity, err)
	}
	rep.Size = h.Size
	type given struct {
		what string
		b    []byte
	}
	var trusted []given
	if opts.StateFile != "" {
		b, err := os.ReadFile(opts.StateFile)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return rep, fmt.Errorf("state file: %w", err)
		default:
			trusted = append(trusted, given{"the checkpoint in " + opts.StateFile, b})
		}
	}
	if opts.Trusted != nil {
		trusted = append(trusted, given{"the trusted checkpoint", opts.Trusted})
	}
	var notes [][]byte
	for _, t := range trusted {
		c, _, err := checkpoint.Open(t.b, note.VerifierList(v), l.Origin())
		if err != nil {
			return rep, fmt.Errorf("%s: %w", t.what, err)
		}
		if c.Size > h.Size {
			return rep, fmt.Errorf("%w: the log holds %d entries, but %s (signed by the log's key) covers %d: entries were removed from its end", ErrIntegrity, h.Size, t.what, c.Size)
		}
		if c.Size > 0 {
			p, err := l.ConsistencyProof(ctx, c.Size, h.Size)
			if err != nil {
				return rep, fmt.Errorf("%w: proving the log consistent with %s: %w", ErrIntegrity, t.what, err)
			}
			if err := tlog.CheckTree(p, int64(h.Size), h.Checkpoint.Root, int64(c.Size), c.Root); err != nil {
				return rep, fmt.Errorf("%w: the log is not consistent with %s (size %d): its first %d entries were rewritten", ErrIntegrity, t.what, c.Size, c.Size)
			}
		}
		rep.TrustedSize = max(rep.TrustedSize, c.Size)
		notes = append(notes, t.b)
	}
	if opts.Scope == Tail {
		rep.From = rep.TrustedSize
	}
	if err := checkEntries(ctx, l, rep.From, h.Size); err != nil {
		return rep, err
	}
	rep.Checked = h.Size - rep.From
	if opts.Dir != "" {
		if h.Size > 0 {
			notes = append(notes, h.Checkpoint.Note)
		}
		vr, err := verify.Verify(ctx, verify.Dir(opts.Dir), verify.Options{Key: l.VerifierKey(), Checkpoints: notes})
		if err != nil {
			return rep, fmt.Errorf("verifying %s: %w", opts.Dir, err)
		}
		if !vr.Valid {
			what := vr.Verdict
			if vr.FirstProblem != nil {
				what += ": " + vr.FirstProblem.Reason
			}
			return rep, fmt.Errorf("%w: the verifier finds %s %s", ErrIntegrity, opts.Dir, what)
		}
		rep.Verified = true
	}
	if opts.StateFile != "" && h.Size > 0 {
		if err := durable.WriteFile(opts.StateFile, h.Checkpoint.Note, 0o644); err != nil {
			return rep, fmt.Errorf("state file: %w", err)
		}
	}
	return rep, nil
}

// checkEntries reads entries [from, to), each checked by the log against
// its signed head, and checks that they chain and that time never goes
// backwards.
func checkEntries(ctx context.Context, l *sealog.Log, from, to uint64) error {
	if from >= to {
		return nil
	}
	var prev tlog.Hash
	var prevTime time.Time
	if from > 0 {
		e, err := l.Entry(ctx, from-1)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrIntegrity, err)
		}
		prev, prevTime = e.LeafHash, e.Time
	}
	next := from
	for e, err := range l.Entries(ctx, from, to) {
		if err != nil {
			return fmt.Errorf("%w: %w", ErrIntegrity, err)
		}
		switch {
		case e.Seq != next:
			return fmt.Errorf("%w: entry %d where %d was expected", ErrIntegrity, e.Seq, next)
		case e.Prev != prev:
			return fmt.Errorf("%w: entry %d does not chain to entry %d", ErrIntegrity, e.Seq, e.Seq-1)
		case e.Time.Before(prevTime):
			return fmt.Errorf("%w: entry %d's time goes backwards", ErrIntegrity, e.Seq)
		}
		prev, prevTime, next = e.LeafHash, e.Time, next+1
	}
	if next != to {
		return fmt.Errorf("%w: the log yielded entries up to %d, its head says %d", ErrIntegrity, next, to)
	}
	return nil
}
