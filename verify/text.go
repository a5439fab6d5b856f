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

// Status is the report's verdict in one word: VALID or TAMPERED.
func (r *Report) Status() string {
	if r.Valid {
		return "VALID"
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
	p("entries:", "%d read in %d segment%s (%s)", r.Entries, r.Segments, plural(r.Segments), byteSize(r.Bytes))
	p("authenticated:", "%d entr%s covered by a verified signature", r.Authenticated, pluralY(r.Authenticated))
	p("signatures:", "%d verified", r.Signatures)
	if r.ChainIntact {
		p("chain:", "intact (every entry links to the one before, seqs without gaps, time never goes back)")
	} else {
		p("chain:", "BROKEN")
	}
	p("tampered:", "%d entr%s changed, out of place, duplicated or unreadable", r.Tampered, pluralY(uint64(r.Tampered)))
	p("erased:", "%d entr%s (content removed on request; commitment kept, still verified)", r.Erased, pluralY(uint64(r.Erased)))
	if r.Unsigned > 0 {
		p("unsigned:", "%d entr%s after the last signature: never acknowledged by the writer, not part of the verified log", r.Unsigned, pluralY(r.Unsigned))
	} else {
		p("unsigned:", "0")
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
	if r.Live {
		p("note:", "the log was being written during verification; entries added meanwhile were not checked")
	}
	label := "warnings:"
	for _, wn := range r.Warnings {
		if strings.HasPrefix(wn, "truncation not ruled out") || strings.HasPrefix(wn, "verified with the key stored in the log") {
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
