package verify

import (
	"fmt"

	"golang.org/x/mod/sumdb/note"

	"github.com/sealog/sealog/checkpoint"
)

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
