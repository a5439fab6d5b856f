package verify

import (
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/note"

	"github.com/sealog/sealog/checkpoint"
)

// ckpt is a signed checkpoint to check the log against.
type ckpt struct {
	source string // "checkpoint file" or "trusted checkpoint"
	c      checkpoint.Checkpoint
	err    error // nil: its signature verified
	// pending is i+1 for the i-th trusted checkpoint not signed by a
	// trusted key, checked against the chain's keys after the stream.
	pending int
}

func openCheckpoint(b []byte, v note.Verifier, origin, source string) *ckpt {
	c, _, err := checkpoint.Verify(b, v, origin)
	return &ckpt{source: source, c: c, err: err}
}

// sigResults is what is known of the batch signatures once checked.
type sigResults struct {
	verified, failed, unchecked int
	maxOK                       uint64     // the largest size whose signature verified
	fails                       []sigPoint // failures, lowest size first (capped)
	all                         bool       // every signature was checked
}

// defaultSigs checks the batch signatures that verification needs (docs/
// FORMAT.md section 9 step 4): the newest; when it does not verify, the
// newest of those made before any entry problem that does. Every other
// member was checked for its key hash only.
func defaultSigs(b *sigBook) sigResults {
	var r sigResults
	checked := 0
	try := func(p *sigPoint) bool {
		if p.sig == nil || !p.ok {
			return false
		}
		own := keyHashOf(p.sig) == b.keyHash(p.size)
		if own {
			checked++
		}
		if b.check(p) {
			r.verified++
			r.maxOK = max(r.maxOK, p.size)
			return true
		}
		if own {
			r.failed++
			r.fails = append(r.fails, *p)
		}
		return false
	}
	if !try(&b.newest) {
		for i := range b.clean {
			if cl := &b.clean[i]; cl.sig != nil && cl.size != b.newest.size && try(cl) {
				break
			}
		}
	}
	r.failed += b.foreignN
	r.fails = append(r.fails, b.foreign...)
	sortPoints(r.fails)
	r.unchecked = b.seen - b.foreignN - checked
	return r
}

// poolSigs takes the results of checking every batch signature.
func poolSigs(s *sigPool) sigResults {
	s.wait()
	return sigResults{verified: s.verified, failed: s.failN, unchecked: s.unchecked, maxOK: s.maxOK, fails: s.fails, all: true}
}

// checkpoints checks the checkpoint file and the trusted checkpoints
// against the tree, and returns the largest size one of them
// authenticates.
func (v *verification) checkpoints() uint64 {
	rep, ch := v.rep, v.ch
	present := ch.next
	var auth uint64
	var best *CheckpointInfo
	for _, k := range v.cks {
		ci := CheckpointInfo{Source: k.source, Size: k.c.Size, Root: k.c.Root}
		root, reached := ch.targets[k.c.Size]
		var oe *checkpoint.OriginError
		switch {
		case errors.Is(k.err, checkpoint.ErrMalformed):
			ci.Status = "malformed"
			ch.problem(nil, "checkpoint", nil, fmt.Sprintf("the %s is not a signed checkpoint: %v", k.source, k.err))
		case errors.As(k.err, &oe):
			ci.Status = "another log"
			ch.problem(nil, "checkpoint", nil, fmt.Sprintf("the %s is %v", k.source, oe))
		case k.err != nil:
			ci.Status = "bad signature"
			rep.SignaturesFailed++
			v.badCheckpoints = append(v.badCheckpoints, fmt.Sprintf("the %s (size %d): %v", k.source, k.c.Size, k.err))
		case k.c.Size > present:
			ci.Status = "beyond the log"
			rep.Signatures++
			rep.Truncated = true
			v.beyond = max(v.beyond, k.c.Size)
			ch.problem(ptr(present), "truncated", nil, fmt.Sprintf("the %s covers %d entries but the log holds %d: entries %d to %d were removed", k.source, k.c.Size, present, present, k.c.Size-1))
			if k.source == "trusted checkpoint" {
				rep.TruncationChecked = true
				rep.TruncationCheckedTo = max(rep.TruncationCheckedTo, k.c.Size)
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
			auth = max(auth, k.c.Size)
			if k.source == "trusted checkpoint" {
				rep.TruncationChecked = true
				rep.TruncationCheckedTo = max(rep.TruncationCheckedTo, k.c.Size)
			}
		}
		if k.source == "trusted checkpoint" {
			rep.Trusted = append(rep.Trusted, ci)
		}
		if ci.Status == "ok" && (best == nil || ci.Size > best.Size || ci.Size == best.Size && ci.Source != "log") {
			c := ci
			best = &c
		}
	}
	if p := ch.sigs.newest; p.sig != nil && p.size >= auth && v.sigOK(p.size) && (best == nil || p.size > best.Size) {
		best = &CheckpointInfo{Source: "log", Size: p.size, Root: p.root, Status: "ok"}
	}
	rep.Checkpoint = best
	return auth
}

// sigOK reports whether the batch signature at size verified.
func (v *verification) sigOK(size uint64) bool { return v.sr.maxOK == size }

// signatureProblems reports the batch signatures that failed, now that
// the authenticated prefix is known: one over entries a later signature
// proves was altered itself; the lowest one beyond them holds the first
// changed entry, unless an entry problem before it says more.
func (v *verification) signatureProblems(auth uint64) {
	ch := v.ch
	for _, f := range v.sr.fails {
		at := f.at
		seq := f.size - 1
		if f.size <= auth {
			ch.problem(&seq, "signature", &at, fmt.Sprintf("the signature on entry %d does not verify with the key, but a later signature covers entry %d and verifies: this signature was altered or added (the entries are proven)", seq, seq))
			continue
		}
		if v.entryProblemBefore(f.size) {
			return // the damage is already located
		}
		v.blameBatch(f, auth)
		return
	}
}

// entryProblemBefore reports whether an entry problem lies below size,
// other than a chain break at the last entry (which the batch signatures
// narrow down: see blameBatch).
func (v *verification) entryProblemBefore(size uint64) bool {
	t := v.ch.tailBreak
	for _, p := range v.rep.Problems {
		if p.Seq != nil && *p.Seq < size && p.Kind != "signature" && !(t != nil && p.Kind == "chain" && *p.Seq == *t) {
			return true
		}
	}
	return v.ch.omittedFirst != nil && *v.ch.omittedFirst < size
}

// blameBatch reports the first batch whose signature fails, when no entry
// problem locates the damage: the entries were rewritten consistently
// (their chain holds), and one signature covers the whole batch.
func (v *verification) blameBatch(f sigPoint, auth uint64) {
	ch := v.ch
	from := max(f.from, auth)
	seq := from
	at := f.at
	reason := badSigReason(from, f.size)
	if t := ch.tailBreak; t != nil && *t > 0 && f.size-1 >= *t-1 && *t-1 >= from {
		// The chain breaks only between the last two entries, and the
		// failing batch holds entry n-1: the change is in entry n-1 or n.
		seq = *t - 1
		reason = fmt.Sprintf("entry %d or entry %d was changed: the signature on their batch does not verify, and the chain breaks between them", seq, *t)
		if f.size-1 == seq {
			reason = fmt.Sprintf("entry %d was changed: the signature on it does not verify, and entry %d does not chain to it", seq, *t)
		}
	}
	ch.problem(&seq, "signature", &at, reason)
	if seq != from { // narrowed down by the chain
		if !ch.flagged[seq] {
			v.rep.Changed++
		}
		return
	}
	for s := from; s < f.size; s++ {
		if !ch.flagged[s] {
			v.rep.Changed++
		}
	}
}

// badSigReason explains the first batch signature that fails.
func badSigReason(from, size uint64) string {
	if from == size-1 {
		return fmt.Sprintf("the signature on entry %d does not verify with the key, while those before it do: entry %d was changed", from, from)
	}
	return fmt.Sprintf("the batch signature on entry %d does not verify with the key, while those before it do: entries %d to %d were rewritten (one signature covers the whole batch, so the exact entry cannot be told)", size-1, from, size-1)
}

func keyHashOf(sig []byte) uint32 {
	return uint32(sig[0])<<24 | uint32(sig[1])<<16 | uint32(sig[2])<<8 | uint32(sig[3])
}
