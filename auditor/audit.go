package auditor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/client"
	"github.com/sealog/sealog/verify"
)

// Verdicts of a Result.
const (
	// VerdictValid: every line checked, the log extends the checkpoint
	// trusted before, and its new checkpoint is now trusted.
	VerdictValid = "valid"
	// VerdictTampered: entries were changed, removed, inserted or
	// reordered (the verifier's report says which, from FirstInvalid).
	VerdictTampered = "tampered"
	// VerdictTruncated: the log holds fewer entries than a checkpoint
	// signed by its key covers (the trusted one, or its own): its tail
	// was cut, perhaps re-signed. FirstInvalid is the first missing seq.
	VerdictTruncated = "truncated"
	// VerdictForked: the log verifies in itself, but its first Old.Size
	// entries no longer have the trusted checkpoint's root: it was
	// rewritten from some point and re-signed. Old, New and Proof are the
	// evidence.
	VerdictForked = "forked"
	// VerdictWrongKey: nothing in the log verifies with the key given.
	VerdictWrongKey = "wrong-key"
	// VerdictUnsigned: entries at the end are covered by no signature
	// (a writer's crash remnant, or entries added without the key).
	VerdictUnsigned = "unsigned"
	// VerdictIncomplete: a verifier limit was reached.
	VerdictIncomplete = "incomplete"
	// VerdictRevoked: nothing else is wrong, but entries are vouched for
	// only by a key revoked before them (Config.Revocations; the report's
	// Revoked says which).
	VerdictRevoked = "revoked"
	// VerdictRefused: the log is valid, but Config.CheckCheckpoint
	// refused its new checkpoint.
	VerdictRefused = "refused"
	// VerdictUnreadable: the log could not be read (gone, unreachable,
	// not a log), or the auditor could not save its state.
	VerdictUnreadable = "unreadable"
)

// Result is the outcome of one audit of one log.
type Result struct {
	Log     string // the log's name (Log.Name, made absolute, passwords removed)
	Origin  string
	Verdict string // a Verdict constant
	Valid   bool   // Verdict is VerdictValid
	// Reason says why, in a sentence.
	Reason string
	// FirstInvalid is the first entry shown to be bad, or missing.
	FirstInvalid *uint64
	// Entries is the number of entry lines checked in this audit.
	Entries uint64
	// Size is the size of the checkpoint trusted after the audit (the new
	// one when valid, the old one otherwise).
	Size uint64
	// Old is the checkpoint trusted before the audit (nil on the first);
	// New the log's checkpoint now (nil when it has none or could not be
	// read).
	Old, New []byte
	// Proof is the log's own consistency proof from Old's size to New's,
	// kept when consistency fails (it does not verify: ProofErr says
	// how); nil when the log cannot give one (it is smaller than Old).
	Proof    tlog.TreeProof
	ProofErr string
	// Report is the verifier's report (nil when the log was unreadable).
	Report *verify.Report
	// Err is the error that made the log unreadable.
	Err error
	// WebhookErr is the error of a webhook that could not be delivered.
	WebhookErr error

	Started, Finished time.Time
}

// audit audits one log.
func (a *Auditor) audit(ctx context.Context, l *Log) (r Result) {
	ctx, cancel := context.WithTimeout(ctx, a.cfg.Timeout)
	defer cancel()
	r = Result{Log: l.id, Origin: l.v.Name(), Started: a.now()}
	defer func() { r.Finished = a.now() }()
	prev, err := a.trusted(l)
	if err != nil {
		return unreadable(r, err)
	}
	opts := verify.Options{Key: l.Key, Workers: a.cfg.Workers, Revocations: revocationsFor(a.cfg, l.v.Name())}
	if len(opts.Revocations) > 0 {
		// Trusted to sign revocations; they sign no checkpoint.
		opts.Keys = append(opts.Keys, a.cfg.RevocationKeys...)
	}
	if prev != nil {
		r.Size = prev.Size
		if prev.Checkpoint != "" {
			r.Old = []byte(prev.Checkpoint)
			opts.Checkpoints = [][]byte{r.Old}
		}
		// The keys the log was rotated to, as followed before: the
		// trusted checkpoint may be signed by one of them.
		for _, k := range prev.Keys[min(1, len(prev.Keys)):] {
			opts.Keys = append(opts.Keys, k.VerifierKey)
		}
	}
	var keys []client.TrustedKey
	if prev != nil {
		keys = prev.Keys
	}
	snap, err := a.open(ctx, l, l.v, keys)
	var wk *wrongKeyError
	var ce *client.ConsistencyError
	switch {
	case errors.As(err, &wk):
		r.Verdict, r.Reason = VerdictWrongKey, wk.Error()
		return r
	case errors.As(err, &ce):
		// The server's own checkpoints (across a rotation) contradict
		// each other.
		r.Verdict, r.Reason = VerdictForked, ce.Error()
		if ce.Rollback {
			r.Verdict = VerdictTruncated
		}
		r.New, r.Proof = ce.New, ce.Proof
		return r
	}
	if err != nil {
		return unreadable(r, err)
	}
	defer snap.close()
	rep, err := verify.Verify(ctx, snap.src, opts)
	var ie *verify.InputError
	if errors.As(err, &ie) && strings.HasPrefix(ie.What, "revocation statement") {
		err = fmt.Errorf("%w (a statement counts if a key of RevocationKeys ('sealog audit --revocation-key') signed it, or the key the revoked one was rotated to at or before its point; never the revoked key itself)", err)
	}
	if err != nil {
		return unreadable(r, err)
	}
	r.Report, r.Entries, r.FirstInvalid = rep, rep.Entries, rep.FirstInvalid
	r.New = snap.checkpoint()
	if !rep.Valid {
		a.judge(ctx, &r, rep, prev, snap)
		return r
	}
	// Valid: the entries, every signature needed, the log's checkpoint
	// and the trusted one agree. Trust the log's checkpoint.
	next := &LogState{Log: l.id, Origin: l.v.Name(), Key: l.Key, Result: VerdictValid, Entries: rep.Entries, Keys: chainOf(rep)}
	if prev != nil {
		next.Checkpoint, next.Size, next.Root = prev.Checkpoint, prev.Size, prev.Root
		if len(next.Keys) < len(prev.Keys) {
			next.Keys = prev.Keys // a log whose entries are pruned past a rotation
		}
	}
	if r.New != nil {
		ck, err := verifyWithChain(checkpoint.Normalize(r.New), l, next.Keys)
		switch {
		case err != nil: // a valid report says it verified: never here
			return unreadable(r, fmt.Errorf("the log's checkpoint: %v", err))
		case ck.Size >= next.Size:
			if a.cfg.CheckCheckpoint != nil {
				if err := a.cfg.CheckCheckpoint(l.id, r.New); err != nil {
					r.Verdict, r.Reason = VerdictRefused, fmt.Sprintf("the log's checkpoint (size %d) was refused: %v", ck.Size, err)
					return r
				}
			}
			next.Checkpoint, next.Size, next.Root = string(checkpoint.Normalize(r.New)), ck.Size, ck.Root
		}
	}
	next.LastAudit = a.now()
	if err := a.st.save(next); err != nil {
		return unreadable(r, err)
	}
	r.Verdict, r.Valid, r.Size = VerdictValid, true, next.Size
	r.Reason = fmt.Sprintf("%d entries checked; checkpoint of size %d trusted", rep.Entries, next.Size)
	if prev != nil && prev.Checkpoint != "" {
		r.Reason += fmt.Sprintf(", consistent with size %d trusted before", prev.Size)
	}
	return r
}

// chainOf returns the chain of keys the verifier followed, when the log
// was rotated (nil otherwise).
func chainOf(rep *verify.Report) []client.TrustedKey {
	if len(rep.Keys) < 2 {
		return nil
	}
	out := make([]client.TrustedKey, len(rep.Keys))
	for i, k := range rep.Keys {
		out[i].VerifierKey = k.Key
		if k.Rotation != nil {
			out[i].Rotation, out[i].From = *k.Rotation, *k.Rotation+2
		}
	}
	return out
}

// verifyWithChain verifies a checkpoint of the log with the key of the
// chain (the log's key alone when keys is empty) in effect at its size.
func verifyWithChain(msg []byte, l *Log, keys []client.TrustedKey) (checkpoint.Checkpoint, error) {
	ck, err := checkpoint.ParseUnverified(msg)
	if err != nil {
		return ck, err
	}
	v := l.v
	for _, k := range keys[min(1, len(keys)):] {
		if ck.Size >= k.From {
			if v, err = note.NewVerifier(k.VerifierKey); err != nil {
				return ck, fmt.Errorf("the chain's key %s: %v", k.VerifierKey, err)
			}
		}
	}
	ck, _, err = checkpoint.Verify(msg, v, l.v.Name())
	return ck, err
}

func unreadable(r Result, err error) Result {
	r.Verdict, r.Err, r.Reason = VerdictUnreadable, err, err.Error()
	return r
}

// judge names what is wrong with a log the verifier did not pass, and
// gathers the evidence of a fork.
func (a *Auditor) judge(ctx context.Context, r *Result, rep *verify.Report, prev *LogState, snap *snapshot) {
	trusted := ""
	if len(rep.Trusted) > 0 {
		trusted = rep.Trusted[0].Status
	}
	entryProblem := false
	for _, p := range rep.Problems {
		if p.Seq != nil && p.Kind != "truncated" {
			entryProblem = true
			break
		}
	}
	first := ""
	if rep.FirstProblem != nil {
		first = rep.FirstProblem.Reason
	} else if len(rep.Problems) > 0 {
		first = rep.Problems[0].Reason
	}
	switch {
	case rep.Verdict == verify.VerdictWrongKey:
		r.Verdict, r.Reason = VerdictWrongKey, "no signature in the log verifies with the key given: it was re-signed by another key, or this is not its key"
	case trusted == "beyond the log":
		r.Verdict = VerdictTruncated
		r.Reason = fmt.Sprintf("the log holds %d entries, but the checkpoint trusted before covers %d: entries were cut off the end", rep.Entries, prev.Size)
	case rep.Verdict == verify.VerdictRevoked:
		r.Verdict, r.Reason = VerdictRevoked, first
	case entryProblem:
		r.Verdict, r.Reason = VerdictTampered, first
	case trusted == "root mismatch":
		r.Verdict = VerdictForked
		r.Reason = fmt.Sprintf("the log verifies in itself, but its first %d entries are not the ones the checkpoint trusted before covers: it was rewritten and re-signed", prev.Size)
		a.forkEvidence(ctx, r, prev, snap)
	case rep.Truncated:
		r.Verdict, r.Reason = VerdictTruncated, first
	case rep.Verdict == verify.VerdictUnsigned:
		r.Verdict, r.Reason = VerdictUnsigned, first
	case rep.Verdict == verify.VerdictIncomplete:
		r.Verdict, r.Reason = VerdictIncomplete, first
	default:
		r.Verdict, r.Reason = VerdictTampered, first
	}
}

// forkEvidence asks the log for its consistency proof from the trusted
// size to its checkpoint's, and checks it against the trusted root: it
// cannot verify, and is kept as evidence.
func (a *Auditor) forkEvidence(ctx context.Context, r *Result, prev *LogState, snap *snapshot) {
	if r.New == nil {
		return
	}
	ck, err := checkpoint.ParseUnverified(checkpoint.Normalize(r.New))
	if err != nil || ck.Size < prev.Size {
		return
	}
	p, err := snap.proof(ctx, prev.Size, ck.Size)
	if err != nil {
		r.ProofErr = fmt.Sprintf("the log gave no consistency proof: %v", err)
		return
	}
	r.Proof = p
	if err := tlog.CheckTree(p, int64(ck.Size), ck.Root, int64(prev.Size), prev.Root); err != nil {
		r.ProofErr = fmt.Sprintf("the log's consistency proof from %d to %d does not verify against the trusted root: %v", prev.Size, ck.Size, err)
	} else {
		r.ProofErr = "the log's consistency proof verifies, but its entries do not match it"
	}
}
