package verify

import "fmt"

// gap records missing seqs from..to.
func (c *checker) gap(from, to uint64, at place) {
	c.rep.Missing += to - from + 1
	if len(c.rep.Gaps) < c.max {
		c.rep.Gaps = append(c.rep.Gaps, Gap{From: from, To: to})
	}
	reason := fmt.Sprintf("entry %d is missing", from)
	if to > from {
		reason = fmt.Sprintf("entries %d to %d are missing", from, to)
	}
	c.problem(ptr(from), "gap", &at, reason)
}

// fillGap removes seq from the recorded gaps, reporting whether it was in
// one (an entry out of place rather than a duplicate). The gap's problem
// is amended to match.
func (c *checker) fillGap(seq uint64) bool {
	for i, g := range c.rep.Gaps {
		if seq < g.From || seq > g.To {
			continue
		}
		switch {
		case g.From == g.To:
			c.rep.Gaps = append(c.rep.Gaps[:i], c.rep.Gaps[i+1:]...)
		case seq == g.From:
			c.rep.Gaps[i].From++
		case seq == g.To:
			c.rep.Gaps[i].To--
		default:
			c.rep.Gaps = append(c.rep.Gaps[:i+1], c.rep.Gaps[i:]...)
			c.rep.Gaps[i].To = seq - 1
			c.rep.Gaps[i+1].From = seq + 1
		}
		c.rep.Missing--
		c.amendGapProblem(g)
		return true
	}
	return false
}

// amendGapProblem rewrites or drops the problem recorded for gap g after
// entries of it turned up out of place.
func (c *checker) amendGapProblem(g Gap) {
	for i := range c.rep.Problems {
		p := &c.rep.Problems[i]
		if p.Kind != "gap" || p.Seq == nil || *p.Seq != g.From {
			continue
		}
		var left []Gap
		for _, h := range c.rep.Gaps {
			if h.From >= g.From && h.To <= g.To {
				left = append(left, h)
			}
		}
		if len(left) == 0 {
			c.rep.Problems = append(c.rep.Problems[:i], c.rep.Problems[i+1:]...)
			return
		}
		p.Seq = ptr(left[0].From)
		p.Reason = "entries missing: " + gapText(left)
		return
	}
}

func gapText(gs []Gap) string {
	var b []byte
	for i, g := range gs {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = fmt.Appendf(b, "%d", g.From)
		if g.To > g.From {
			b = fmt.Appendf(b, "-%d", g.To)
		}
	}
	return string(b)
}
