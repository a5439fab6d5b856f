package verify

import (
	"fmt"

	"golang.org/x/mod/sumdb/note"
)

// conclude checks the signatures and checkpoints against the tree, works
// out what is authenticated, and gives the verdict.
func (v *verification) conclude() {
	rep, ch := v.rep, v.ch
	keyMatches := v.v.Name() == v.origin
	if !keyMatches {
		ch.problem(nil, "key", nil, fmt.Sprintf("the verifier key is for %q, but the log's origin is %q: no signature can verify (not this log's key, or the log's metadata was changed)", v.v.Name(), v.origin))
	}
	ckAuth := v.checkpoints()
	ch.firstInvalid()
	if keyMatches && !v.sr.all && v.needsSecondPass(max(ckAuth, v.sr.maxOK)) {
		if sr, ok := v.secondPass(); ok {
			v.sr = sr
		}
	}
	rep.Signatures += v.sr.verified
	rep.SignaturesFailed += v.sr.failed
	rep.SignaturesUnchecked = v.sr.unchecked
	auth := max(ckAuth, v.sr.maxOK)
	v.wrongKey = !keyMatches || rep.Signatures == 0 && rep.SignaturesFailed > 0
	if v.wrongKey {
		auth = 0
		v.explainWrongKey(keyMatches)
	} else {
		v.signatureProblems(auth)
		for _, b := range v.badCheckpoints {
			ch.problem(nil, "checkpoint", nil, b)
		}
		if ch.forked && len(v.sr.fails) == 0 && v.sr.all {
			ch.problem(nil, "checkpoint", nil, "every batch signature in the log verifies, yet a checkpoint signed by the same key disagrees with the log: the key signed two different histories (a fork)")
		}
	}
	rep.Authenticated = min(auth, ch.next)
	if !v.wrongKey {
		v.revoked()
	}
	ch.erase.conclude(ch, rep.Authenticated, !v.wrongKey)
	v.checkPruned()
	v.timestamps()
	if v.beyond > ch.next {
		rep.Missing += v.beyond - ch.next
	}
	v.unsigned()
	ch.firstInvalid()
	rep.Tampered = rep.Changed + rep.Missing + rep.Inserted + rep.Reordered
	rep.ChainIntact = true
	for _, p := range rep.Problems {
		switch p.Kind {
		case "malformed", "seq", "gap", "order", "duplicate", "chain", "content", "time", "segment", "pruned":
			rep.ChainIntact = false
		}
	}
	v.warnings()
	rep.Valid = len(rep.Problems) == 0 && rep.ProblemsOmitted == 0 && rep.Unsigned == 0
	rep.Verdict = v.verdict()
}

// needsSecondPass reports whether the signatures checked so far leave the
// damage unlocated, or every one failed (the wrong key?): then every batch
// signature is checked, in a second pass over the log.
func (v *verification) needsSecondPass(auth uint64) bool {
	if v.rep.Signatures == 0 && v.sr.verified == 0 && (v.sr.failed > 0 || v.rep.SignaturesFailed > 0) {
		return true // confirm that no signature verifies
	}
	if t := v.ch.tailBreak; t != nil && v.rep.FirstInvalid != nil && *v.rep.FirstInvalid == *t {
		return true
	}
	for _, f := range v.sr.fails {
		if f.size > auth && !v.entryProblemBefore(f.size) {
			return true
		}
	}
	return v.ch.forked && !v.entryProblemBefore(maxSize)
}

// secondPass checks every batch signature, to find the first batch that
// is not signed by the key, or to confirm that none is.
func (v *verification) secondPass() (sigResults, bool) {
	if v.src == nil {
		return sigResults{}, false
	}
	segs, err := v.src.Segments()
	if err != nil {
		return sigResults{}, false
	}
	scratch := &Report{Problems: []Problem{}, Gaps: []Gap{}}
	book := newSigBook(v.candidates, v.origin, v.opts.MaxProblems)
	segs = keptSegments(segs, v.pruned)
	ch := newChecker(scratch, segs, v.opts.MaxProblems, nil, book, 1)
	if v.pruned != nil {
		ch.startPruned(v.pruned)
	}
	pool := startSigPool(v.ctx, book, v.opts.Workers)
	err = stream(v.ctx, segs, ch, Options{Workers: v.opts.Workers, MaxProblems: v.opts.MaxProblems}, 0)
	if err == nil {
		ch.finish()
	}
	sr := poolSigs(pool)
	return sr, err == nil
}

// explainWrongKey replaces what the failed signatures would say with one
// problem: the log is not signed by the key given. It tries the key stored
// in the log to say by which key it is.
func (v *verification) explainWrongKey(keyMatches bool) {
	if !keyMatches {
		return // said already
	}
	reason := "no signature in the log verifies with the key given: the log is signed by another key (was the right key given?), or it was rewritten and re-signed from its start"
	if p := v.ch.sigs.newest; p.sig != nil && v.logKey != "" && !v.rep.KeyFromLog && v.logKey != v.rep.Key {
		if lv, err := note.NewVerifier(v.logKey); err == nil && lv.Name() == v.origin {
			b := newSigBook([]candidate{{v.logKey, lv}}, v.origin, 0)
			if b.check(&p) {
				reason = fmt.Sprintf("no signature in the log verifies with the key given; the log's signatures verify with the key stored in its sealog.json, %s: the log is signed by that key (was the right key given?), or it was re-signed with it by someone who rewrote the log", v.logKey)
			}
		}
	} else if v.ch.sigs.foreignN > 0 {
		reason += fmt.Sprintf(" (its signatures carry the key hash %08x, the key given has %08x)", v.ch.sigs.otherHash, v.v.KeyHash())
	}
	v.ch.problem(nil, "key", nil, reason)
}

// unsigned accounts for the entries after the authenticated ones.
func (v *verification) unsigned() {
	rep, ch := v.rep, v.ch
	present := ch.next
	if rep.Authenticated >= present || v.wrongKey {
		return
	}
	// Counted in lines, not seqs: a seq changed to a huge number is one
	// line.
	start := v.firstSeq() // a pruned log's lines start there
	rep.Unsigned = min(present-start, rep.Entries) - min(max(rep.Authenticated, start)-start, rep.Entries)
	from, to := rep.Authenticated, present-1
	if len(rep.Problems) > 0 || rep.ProblemsOmitted > 0 {
		return // they are not the issue
	}
	if n := len(v.segs); n > 0 && v.segs[n-1].Atomic {
		ch.problem(ptr(from), "unsigned", nil, fmt.Sprintf("entries %d to %d are covered by no verified signature, and the store commits whole signed batches: they were added or rewritten without the key", from, to))
		return
	}
	if from < ch.lastSegFirst {
		ch.problem(ptr(from), "unsigned", nil, fmt.Sprintf("entries %d to %d are covered by no verified signature, and they do not all lie in the last segment: no crash leaves that; they were added or rewritten without the key", from, to))
		return
	}
	rep.Warnings = append(rep.Warnings, fmt.Sprintf("entries %d to %d are covered by no verified signature: they are either what a writer's crash leaves (an unfinished batch, never acknowledged: the writer's next open cuts it off into torn/), or they were added by someone without the key; they are not part of the verified log", from, to))
	if rep.Live {
		rep.Warnings = append(rep.Warnings, "the log was being written: a batch being written when it was read shows as unsigned; verify again")
	}
}

// verdict names the outcome.
func (v *verification) verdict() string {
	rep := v.rep
	tampered, limit, revoked := false, false, false
	for _, p := range rep.Problems {
		switch p.Kind {
		case "key":
		case "limit", "tsa-roots":
			limit = true
		case "revoked":
			revoked = true
		default:
			tampered = true
		}
	}
	switch {
	case rep.Valid:
		return VerdictValid
	case tampered || rep.ProblemsOmitted > 0:
		return VerdictTampered
	case revoked:
		return VerdictRevoked
	case v.wrongKey:
		return VerdictWrongKey
	case limit:
		return VerdictIncomplete
	}
	return VerdictUnsigned
}

// warnings adds what the report must say plainly.
func (v *verification) warnings() {
	rep := v.rep
	if ck := v.fileCheckpoint(); ck != nil && ck.err == nil && ck.c.Size < rep.Authenticated {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("the checkpoint file covers %d entries, fewer than the log's signatures (%d): the writer did not close the log, or the file was rolled back", ck.c.Size, rep.Authenticated))
	}
	if v.ch.next == 0 && rep.Entries == 0 {
		rep.Warnings = append(rep.Warnings, "the log has no entries")
	}
	switch {
	case rep.TruncationChecked && rep.TruncationCheckedTo < v.ch.next && !rep.Truncated:
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("truncation ruled out up to size %d only: entries %d to %d are not covered by a checkpoint from outside the log", rep.TruncationCheckedTo, rep.TruncationCheckedTo, v.ch.next-1))
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

func (v *verification) fileCheckpoint() *ckpt {
	for _, k := range v.cks {
		if k.source == "checkpoint file" {
			return k
		}
	}
	return nil
}
