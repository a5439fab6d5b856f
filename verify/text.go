package verify

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// TextOptions configure Report.WriteText.
type TextOptions struct {
	// Name says what was verified (a directory, a URL); empty leaves the
	// line out.
	Name string
	// MaxProblems caps the problems listed; 0 means 20, a negative value
	// lists them all. The count is always given.
	MaxProblems int
}

// Status is the report's verdict in a word or two: VALID, TAMPERED,
// UNSIGNED, WRONG KEY or INCOMPLETE (see the Verdict constants).
func (r *Report) Status() string {
	switch {
	case r.Valid:
		return "VALID"
	case r.Verdict == VerdictUnsigned:
		return "UNSIGNED"
	case r.Verdict == VerdictWrongKey:
		return "WRONG KEY"
	case r.Verdict == VerdictIncomplete:
		return "INCOMPLETE"
	case r.Verdict == VerdictRevoked:
		return "REVOKED"
	}
	return "TAMPERED"
}

// WriteText writes the report for people: the verdict, what was checked,
// the first invalid entry and where it is, every gap, the counts, the
// checkpoints used, whether truncation was ruled out, and the problems.
// It is what a compliance officer files; the JSON encoding of Report is
// the same content for programs.
func (r *Report) WriteText(w io.Writer, opts TextOptions) error {
	bw := bufio.NewWriter(w)
	p := func(label, format string, args ...any) {
		fmt.Fprintf(bw, "%-15s %s\n", label, fmt.Sprintf(format, args...))
	}
	more := func(format string, args ...any) {
		fmt.Fprintf(bw, "%-15s %s\n", "", fmt.Sprintf(format, args...))
	}
	bw.WriteString("sealog verification report\n\n")
	p("status:", "%s", r.Status())
	if opts.Name != "" {
		p("log:", "%s", opts.Name)
	}
	p("origin:", "%s", r.Origin)
	p("key:", "%s", r.Key)
	if r.KeyFromLog {
		more("WARNING: this key was read from the log itself. The result proves only")
		more("that the log is consistent with that key, not who signed it: anyone who")
		more("can rewrite the log can replace the key. Verify with the verifier key")
		more("from your own records to prove the log is authentic.")
	} else {
		more("(given by the verifier, not read from the log)")
	}
	r.writeKeys(p, more)
	r.writeRevoked(p, more)
	p("entries:", "%d read in %d segment%s (%s)", r.Entries, r.Segments, plural(r.Segments), byteSize(r.Bytes))
	if r.Entries > 0 && r.FirstTime != "" {
		p("time range:", "%s to %s", r.FirstTime, r.LastTime)
	}
	if r.Authenticated > 0 {
		p("authenticated:", "%d entr%s (seq 0 to %d) covered by a verified signature", r.Authenticated, pluralY(r.Authenticated), r.Authenticated-1)
	} else {
		p("authenticated:", "0 entries covered by a verified signature")
	}
	sigs := fmt.Sprintf("%d verified, %d failed", r.Signatures, r.SignaturesFailed)
	if r.SignaturesUnchecked > 0 {
		sigs += fmt.Sprintf(", %d not checked (batch signatures the verdict does not need; --all-signatures checks them)", r.SignaturesUnchecked)
	}
	p("signatures:", "%s", sigs)
	if r.ChainIntact {
		p("chain:", "intact (every entry links to the one before, seqs without gaps, time never goes back)")
	} else {
		p("chain:", "BROKEN")
	}
	if r.Tampered == 0 {
		p("tampered:", "0 entries")
	} else {
		p("tampered:", "%d entr%s: %d changed, %d missing, %d inserted, %d out of place", r.Tampered, pluralY(r.Tampered), r.Changed, r.Missing, r.Inserted, r.Reordered)
	}
	p("erased:", "%d entr%s (content removed by the writer, each named by a signed erasure record; commitment kept, still verified)", r.Erased, pluralY(uint64(r.Erased)))
	for i, e := range r.ErasedEntries {
		if max := opts.MaxProblems; (max == 0 && i == 20) || (max > 0 && i == max) {
			more("... and %d more (the JSON report lists them all)", len(r.ErasedEntries)-i)
			break
		}
		more("seq %d, erased by the record at seq %d", e.Seq, e.Record)
	}
	if r.ForgedErasures > 0 {
		more("and %d entr%s in the erased form WITHOUT a signed erasure record: content removed by someone else", r.ForgedErasures, pluralY(uint64(r.ForgedErasures)))
	}
	if r.ErasuresUnchecked > 0 {
		more("and %d entr%s in the erased form not checked: their erasure records cannot be authenticated in this log", r.ErasuresUnchecked, pluralY(uint64(r.ErasuresUnchecked)))
	}
	switch {
	case r.Unsigned == 0:
		p("unsigned:", "0")
	case r.Verdict == VerdictUnsigned:
		p("unsigned:", "%d entr%s (seq %d to %d) after the last verified signature, at the end of the", r.Unsigned, pluralY(r.Unsigned), r.Authenticated, r.Authenticated+r.Unsigned-1)
		more("last segment: the shape a writer's crash leaves (a batch never acknowledged,")
		more("which the writer's next open cuts off into torn/). If the writer has opened")
		more("the log since, or never crashed, someone without the key added them.")
	default:
		p("unsigned:", "%d entr%s covered by no verified signature: not part of the verified log", r.Unsigned, pluralY(r.Unsigned))
	}
	if r.FirstInvalid != nil {
		where := ""
		if fp := r.FirstProblem; fp != nil {
			where = locate(fp)
			if where != "" {
				where = " (" + where + ")"
			}
			p("first invalid:", "seq %d%s: %s", *r.FirstInvalid, where, fp.Reason)
		} else {
			p("first invalid:", "seq %d", *r.FirstInvalid)
		}
	} else if r.FirstProblem != nil {
		p("first problem:", "%s", r.FirstProblem.Reason)
	}
	if len(r.Gaps) == 0 {
		p("gaps:", "none")
	}
	for i, g := range r.Gaps {
		label := ""
		if i == 0 {
			label = "gaps:"
		}
		n := g.To - g.From + 1
		if n == 1 {
			p(label, "seq %d missing", g.From)
		} else {
			p(label, "seq %d–%d missing (%d entries)", g.From, g.To, n)
		}
	}
	if c := r.Checkpoint; c != nil {
		p("checkpoint:", "size %d, root %s (%s): %s", c.Size, c.Root, c.Source, c.Status)
	} else {
		p("checkpoint:", "none verified")
	}
	for i, c := range r.Trusted {
		label := ""
		if i == 0 {
			label = "trusted:"
		}
		p(label, "size %d, root %s: %s", c.Size, c.Root, c.Status)
	}
	switch {
	case r.Truncated:
		p("truncation:", "DETECTED: a signed checkpoint covers entries the log no longer holds")
	case r.TruncationChecked && r.TruncationCheckedTo < r.Authenticated+r.Unsigned:
		p("truncation:", "ruled out up to size %d; entries %d to %d are not covered by a checkpoint", r.TruncationCheckedTo, r.TruncationCheckedTo, r.Authenticated+r.Unsigned-1)
		more("from outside the log, so a cut among them would not show.")
	case r.TruncationChecked:
		p("truncation:", "ruled out: the log holds every entry that a checkpoint from outside it covers")
	case len(r.Trusted) > 0:
		p("truncation:", "NOT ruled out: the checkpoints given from outside the log could not be")
		more("checked (see their status above).")
	default:
		p("truncation:", "NOT ruled out: no checkpoint from outside the log was given, and entries")
		more("cut from the end together with the log's own checkpoint would not show.")
		more("Verify with a checkpoint saved earlier (a receipt, a witness) to rule it out.")
	}
	prunedLines(r, p, more)
	timestampLines(r, p, more)
	if r.Verdict == VerdictWrongKey {
		p("verdict:", "the log is NOT signed by the key given; no entry is counted as changed,")
		more("because nothing can be said of them without the log's own key.")
	}
	if r.Live {
		p("note:", "the log was being written during verification; entries added meanwhile were not checked")
	}
	label := "warnings:"
	for _, wn := range r.Warnings {
		if strings.HasPrefix(wn, "truncation not ruled out") || strings.HasPrefix(wn, "truncation ruled out up to") || strings.HasPrefix(wn, "verified with the key stored in the log") {
			continue // said above, in the truncation and key lines
		}
		p(label, "%s", wn)
		label = ""
	}
	if n := len(r.Problems) + r.ProblemsOmitted; n > 0 {
		max := opts.MaxProblems
		if max == 0 {
			max = 20
		}
		fmt.Fprintf(bw, "\nproblems (%d):\n", n)
		for i, pr := range r.Problems {
			if max > 0 && i == max {
				fmt.Fprintf(bw, "  ... and %d more (the JSON report lists up to %d)\n", n-max, len(r.Problems))
				break
			}
			fmt.Fprintf(bw, "  %s\n", describe(&pr))
		}
	}
	return bw.Flush()
}

// describe renders one problem on one line.
func describe(p *Problem) string {
	var b strings.Builder
	if p.Seq != nil {
		fmt.Fprintf(&b, "seq %d: ", *p.Seq)
	}
	b.WriteString(p.Kind)
	if loc := locate(p); loc != "" {
		fmt.Fprintf(&b, " at %s", loc)
	}
	fmt.Fprintf(&b, ": %s", p.Reason)
	return b.String()
}

// locate names a problem's segment file and line.
func locate(p *Problem) string {
	switch {
	case p.Segment != "" && p.Line > 0:
		return fmt.Sprintf("segment %s, line %d", p.Segment, p.Line)
	case p.Segment != "":
		return "segment " + p.Segment
	}
	return ""
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func pluralY(n uint64) string {
	if n == 1 {
		return "y"
	}
	return "ies"
}

// byteSize formats a byte count for people.
func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
