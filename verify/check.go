package verify

import (
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/tree"
)

// checker does the sequential part of verification on the lines the
// workers parsed and hashed, in log order.
type checker struct {
	rep  *Report
	segs []Segment
	max  int

	next     uint64    // seq the next entry should have
	last     tlog.Hash // leaf hash of entry next-1, when lastOK
	lastOK   bool
	lastTime int64
	edge     tree.Edge // the tree of entries 0..next-1, when treeOK
	treeOK   bool

	// A chain break (entry brk's prev is not entry brk-1's leaf hash) is
	// blamed one line later: if the next entry's chain holds, entry brk-1
	// was changed; if it breaks too, entry brk itself was.
	brk     *place
	brkPrev place           // where entry brk-1 is (the line before the break)
	lastAt  place           // where entry next-1 is
	flagged map[uint64]bool // entries already counted as tampered (bounded)

	omittedFirst *uint64 // lowest seq among problems beyond the cap
	forked       bool    // a verified checkpoint's root differs from the entries
	tailBreak    *uint64 // the last entry broke the chain (blamed for now)

	targets map[uint64]*tlog.Hash // sizes whose root is wanted -> root, once reached
	sig     sigPoint              // the newest signature seen
	goodSig sigPoint              // the newest signature seen while the tree was intact
	sigs    func(p *sigPoint)     // when set, called for every signature

}

// place locates an entry line.
type place struct {
	seq  uint64
	segi int // index in the segment list
	seg  string
	line int
}

// sigPoint is a batch signature on the tree of the first size entries.
type sigPoint struct {
	size uint64
	root tlog.Hash
	sig  []byte
	at   place
	ok   bool // root is known (the tree was intact up to here)
}

func newChecker(rep *Report, segs []Segment, max int, targets []uint64) *checker {
	c := &checker{rep: rep, segs: segs, max: max, treeOK: true, lastOK: true,
		flagged: map[uint64]bool{}, targets: map[uint64]*tlog.Hash{}}
	for _, t := range targets {
		c.targets[t] = nil
	}
	c.reached()
	return c
}

// problem records a problem; seq nil means it is not about one entry.
func (c *checker) problem(seq *uint64, kind string, at *place, reason string) {
	p := Problem{Seq: seq, Kind: kind, Reason: reason}
	if at != nil {
		p.Segment, p.Line = at.seg, at.line
	}
	if len(c.rep.Problems) < c.max {
		c.rep.Problems = append(c.rep.Problems, p)
	} else {
		c.rep.ProblemsOmitted++
		if seq != nil && (c.omittedFirst == nil || *seq < *c.omittedFirst) {
			c.omittedFirst = seq
		}
	}
}

// firstInvalid sets the report's first invalid seq and first problem from
// the problems found: the lowest seq, and the first problem recorded when
// no entry is at fault.
func (c *checker) firstInvalid() {
	c.rep.FirstInvalid, c.rep.FirstProblem = nil, nil
	for i := range c.rep.Problems {
		p := &c.rep.Problems[i]
		if p.Seq != nil && (c.rep.FirstInvalid == nil || *p.Seq < *c.rep.FirstInvalid) {
			c.rep.FirstInvalid, c.rep.FirstProblem = p.Seq, p
		}
	}
	if c.omittedFirst != nil && (c.rep.FirstInvalid == nil || *c.omittedFirst < *c.rep.FirstInvalid) {
		c.rep.FirstInvalid = c.omittedFirst
	}
	if c.rep.FirstProblem == nil && len(c.rep.Problems) > 0 {
		c.rep.FirstProblem = &c.rep.Problems[0]
	}
}

// tamper records a problem with entry seq and counts the entry once.
func (c *checker) tamper(seq uint64, kind string, at place, reason string) {
	if !c.flagged[seq] {
		c.rep.Tampered++
		if len(c.flagged) < 1<<16 {
			c.flagged[seq] = true
		}
	}
	c.problem(&seq, kind, &at, reason)
}

func ptr(v uint64) *uint64 { return &v }

// line checks one entry line.
func (c *checker) line(r *lineResult, at place) {
	c.rep.Entries++
	if r.err != nil {
		c.tamper(c.next, "malformed", at, fmt.Sprintf("where entry %d was expected: %v", c.next, r.err))
		return
	}
	at.seq = r.seq
	if seg := &c.segs[at.segi]; at.line == 1 && r.seq != seg.First {
		c.problem(ptr(r.seq), "segment", &at, fmt.Sprintf("segment %s starts with entry %d but its name says %d", seg.Name, r.seq, seg.First))
	}
	switch {
	case r.seq > c.next:
		c.gap(c.next, r.seq-1, at)
		c.next = r.seq
		c.lastOK, c.treeOK = false, false
		c.brk = nil
	case r.seq < c.next:
		if c.fillGap(r.seq) {
			c.tamper(r.seq, "order", at, fmt.Sprintf("entry %d is out of place: it comes after entry %d", r.seq, c.next-1))
		} else {
			c.tamper(r.seq, "duplicate", at, fmt.Sprintf("entry %d appears again after entry %d", r.seq, c.next-1))
		}
		c.treeOK = false
		return
	}
	chainOK := !c.lastOK || r.prev == c.last
	if c.brk != nil {
		b := c.brk
		c.brk = nil
		if chainOK {
			c.tamper(b.seq-1, "content", c.brkPrev, fmt.Sprintf("entry %d does not match the hash that entry %d holds for it: its content or header was changed", b.seq-1, b.seq))
		} else {
			c.tamper(b.seq, "chain", *b, fmt.Sprintf("entry %d's prev hash does not match entry %d, and entry %d does not match it: entry %d was changed or replaced", b.seq, b.seq-1, b.seq+1, b.seq))
			chainOK = true // explained
		}
	}
	if !chainOK {
		c.brk, c.brkPrev = &at, c.lastAt
	}
	if c.lastOK && r.time < c.lastTime {
		c.tamper(r.seq, "time", at, fmt.Sprintf("entry %d's time is earlier than entry %d's", r.seq, r.seq-1))
	}
	if r.erased {
		c.rep.Erased++
	}
	if c.treeOK {
		c.edge.Append(r.leaf, nil)
	}
	c.last, c.lastOK, c.lastTime, c.lastAt = r.leaf, true, r.time, at
	c.next++
	c.reached()
	if r.sig != nil {
		c.sig = sigPoint{size: c.next, sig: r.sig, at: at, ok: c.treeOK}
		if c.treeOK {
			c.sig.root = c.edge.Root()
			c.goodSig = c.sig
		}
		if c.sigs != nil {
			p := c.sig
			c.sigs(&p)
		}
	}
}

// reached records the root when the tree reaches a wanted size.
func (c *checker) reached() {
	if _, want := c.targets[c.next]; want && c.treeOK {
		root := c.edge.Root()
		c.targets[c.next] = &root
	}
}

// finish resolves what was left pending at the end of the entries: a
// break at the last entry n blames entry n (no entry n+1 vouches for it),
// as docs/FORMAT.md section 9 says.
//
// The batch signatures may tell more: if the batch holding entry n-1 no
// longer verifies, entry n-1 (or another in its batch) was changed. So a
// break at the end also sends the verifier to check every batch signature
// (needsSecondPass), which blames that batch when one fails.
func (c *checker) finish() {
	if b := c.brk; b != nil {
		c.brk = nil
		c.tamper(b.seq, "chain", *b, fmt.Sprintf("entry %d, the last, does not chain to entry %d: it was changed or added, unless entry %d was changed", b.seq, b.seq-1, b.seq-1))
		seq := b.seq
		c.tailBreak = &seq
	}
}

// gap records missing seqs from..to.
func (c *checker) gap(from, to uint64, at place) {
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

// segmentEnd checks what followed a segment's last whole line.
func (c *checker) segmentEnd(ch *chunk, last bool) {
	sg := c.segs[ch.seg]
	at := place{seq: c.next, segi: ch.seg, seg: sg.Name, line: ch.line}
	if ch.damaged != "" {
		c.problem(ptr(c.next), "segment", &at, fmt.Sprintf("segment %s: %s", sg.Name, ch.damaged))
	}
	if len(ch.torn) > 0 {
		if last {
			c.rep.Warnings = append(c.rep.Warnings, fmt.Sprintf("segment %s ends with an unterminated line of %d bytes: a write cut short (a crash, or the writer is at work); it is not part of the log", sg.Name, len(ch.torn)))
		} else {
			c.problem(ptr(c.next), "segment", &at, fmt.Sprintf("segment %s ends with an unterminated line, but it is not the last segment", sg.Name))
		}
	}
	if ch.padding > 0 && !last {
		c.problem(ptr(c.next), "segment", &at, fmt.Sprintf("segment %s ends with %d NUL bytes, which only the last segment may have", sg.Name, ch.padding))
	}
}
