package verify

import (
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/tree"
)

// checker does the sequential part of verification on the lines the
// workers parsed and hashed, in log order: seq order, the chain, the
// tree, the signature points and the erasures.
type checker struct {
	rep  *Report
	segs []Segment
	max  int

	next     uint64    // seq the next entry should have
	last     tlog.Hash // leaf hash of entry next-1, when lastOK
	lastOK   bool
	lastTime int64
	// firstTime is the time of the first entry accepted, when timeSet.
	firstTime int64
	timeSet   bool
	edge      tree.Edge // the tree of entries 0..next-1, when treeOK
	treeOK    bool

	// A chain break (entry brk's prev is not entry brk-1's leaf hash) is
	// blamed one line later: if the next entry's chain holds, entry brk-1
	// was changed; if it breaks too, entry brk itself was.
	brk     *place
	brkPrev place           // where entry brk-1 is (the line before the break)
	lastAt  place           // where entry next-1 is
	flagged map[uint64]bool // entries already counted as changed (bounded)

	// held is a line whose seq is not the one expected, kept until the
	// next line tells what happened: if that one is the entry after the
	// expected one, the held line is the expected entry with its seq
	// changed; otherwise entries are missing, repeated or out of place.
	held *heldLine

	omittedFirst *uint64 // lowest seq among problems beyond the cap
	forked       bool    // a verified checkpoint's root differs from the entries
	tailBreak    *uint64 // the last entry broke the chain (blamed for now)
	anomaly      bool    // an entry problem was seen: the entries after it prove nothing

	lastSegFirst uint64 // seq of the first entry of the last segment that held one
	lastSeg      int    // index of that segment, -1 before any entry

	start   uint64                // seq of the first entry kept (a pruned log's prune point; 0)
	prunes  []pruneSeen           // prune records read (bounded by maxPrunes)
	targets map[uint64]*tlog.Hash // sizes whose root is wanted -> root, once reached
	sigs    *sigBook              // the signature points
	erase   *erasures             // erased entries and erasure records
}

// place locates an entry line.
type place struct {
	seq  uint64
	segi int // index in the segment list
	seg  string
	line int
}

type heldLine struct {
	r  lineResult
	at place
}

func newChecker(rep *Report, segs []Segment, max int, targets []uint64, sigs *sigBook, maxErased int) *checker {
	c := &checker{rep: rep, segs: segs, max: max, treeOK: true, lastOK: true, lastSeg: -1,
		flagged: map[uint64]bool{}, targets: map[uint64]*tlog.Hash{}, sigs: sigs, erase: newErasures(maxErased)}
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
	if seq != nil {
		c.anomaly = true
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

// changed records a problem with entry seq and counts it changed, once.
func (c *checker) changed(seq uint64, kind string, at place, reason string) {
	if !c.flagged[seq] {
		c.rep.Changed++
		if len(c.flagged) < 1<<16 {
			c.flagged[seq] = true
		}
	}
	c.problem(&seq, kind, &at, reason)
}

func ptr(v uint64) *uint64 { return &v }

// line takes the next entry line.
func (c *checker) line(r *lineResult, at place) {
	if h := c.held; h != nil {
		c.held = nil
		if r.err == nil && c.next < maxSize && r.seq == c.next+1 && (!c.lastOK || h.r.prev == c.last) {
			c.seqChanged(h)
		} else {
			c.entry(&h.r, h.at)
		}
	}
	if r.err == nil && r.seq != c.next {
		c.held = &heldLine{r: *r, at: at}
		return
	}
	c.entry(r, at)
}

// flush processes a held line at the end of the entries.
func (c *checker) flush() {
	if h := c.held; h != nil {
		c.held = nil
		c.entry(&h.r, h.at)
	}
}

// seqChanged takes a held line as the expected entry whose seq was changed:
// the next line is the entry after the expected one.
func (c *checker) seqChanged(h *heldLine) {
	c.rep.Entries++
	c.noteSegment(h.at)
	at := h.at
	at.seq = c.next
	if c.brk != nil {
		c.resolveBreak(!c.lastOK || h.r.prev == c.last)
	}
	if seg := &c.segs[at.segi]; at.line == 1 && c.next != seg.First {
		c.problem(ptr(c.next), "segment", &at, fmt.Sprintf("segment %s starts with entry %d but its name says %d", seg.Name, c.next, seg.First))
	}
	c.changed(c.next, "seq", at, fmt.Sprintf("the line where entry %d belongs says seq %d, and the next line is entry %d: its seq was changed", c.next, h.r.seq, c.next+1))
	c.treeOK = false // its leaf hash cannot be entry next's
	c.lastOK, c.lastTime, c.lastAt = false, h.r.time, at
	c.next++
}

// noteSegment keeps track of the last segment that holds an entry.
func (c *checker) noteSegment(at place) {
	if at.segi != c.lastSeg {
		c.lastSeg, c.lastSegFirst = at.segi, c.next
	}
}

// entry checks one entry line in its place.
func (c *checker) entry(r *lineResult, at place) {
	c.rep.Entries++
	c.noteSegment(at)
	if r.err != nil {
		c.changed(c.next, "malformed", at, fmt.Sprintf("where entry %d was expected: %v", c.next, r.err))
		c.brk = nil
		c.lastOK, c.treeOK = false, false
		c.next++
		return
	}
	at.seq = r.seq
	if seg := &c.segs[at.segi]; at.line == 1 && r.seq != seg.First {
		c.problem(ptr(r.seq), "segment", &at, fmt.Sprintf("segment %s starts with entry %d but its name says %d", seg.Name, r.seq, seg.First))
	}
	switch {
	case r.seq > c.next:
		c.resolveBreak(false)
		c.gap(c.next, r.seq-1, at)
		c.next = r.seq
		c.lastOK, c.treeOK = false, false
	case r.seq < c.next:
		if c.fillGap(r.seq) {
			c.rep.Reordered++
			c.problem(ptr(r.seq), "order", &at, fmt.Sprintf("entry %d is out of place: it comes after entry %d", r.seq, c.next-1))
		} else {
			c.rep.Inserted++
			c.problem(ptr(r.seq), "duplicate", &at, fmt.Sprintf("entry %d appears again after entry %d", r.seq, c.next-1))
		}
		c.treeOK = false
		return
	}
	chainOK := !c.lastOK || r.prev == c.last
	if c.brk != nil {
		chainOK = c.resolveBreak(chainOK) || chainOK
	}
	if !chainOK {
		c.brk, c.brkPrev = &at, c.lastAt
		c.anomaly = true
	}
	if c.lastOK && r.time < c.lastTime {
		c.changed(r.seq, "time", at, fmt.Sprintf("entry %d's time is earlier than entry %d's", r.seq, r.seq-1))
	}
	if r.erased {
		c.erase.erased(r.seq, r.bodyHash, at)
	} else if r.isRecord {
		c.erase.record(r.seq, r.record)
	} else if r.isPrune {
		c.prunedRecord(r)
	}
	if c.treeOK {
		c.edge.Append(r.leaf, nil)
	}
	c.last, c.lastOK, c.lastTime, c.lastAt = r.leaf, true, r.time, at
	if !c.timeSet {
		c.firstTime, c.timeSet = r.time, true
	}
	c.next++
	c.reached()
	if r.sig != nil {
		p := sigPoint{size: c.next, sig: r.sig, at: at, ok: c.treeOK, clean: !c.anomaly}
		if c.treeOK {
			p.root = c.edge.Root()
		}
		c.sigs.add(&p)
		if r.rotation != nil {
			c.rotation(r, at, &p)
		}
	} else if r.rotation != nil {
		c.rotation(r, at, nil)
	}
}

// rotation follows a rotation record (docs/FORMAT.md section 5a): the
// chain goes on with its key, or the record is forged, which is tampering
// at the record.
func (c *checker) rotation(r *lineResult, at place, p *sigPoint) {
	if why := c.sigs.chain.rotate(r.seq, *r.rotation, p); why != "" {
		c.rep.ForgedRotations++
		c.changed(r.seq, "rotation", at, why)
	}
}

// resolveBreak decides a pending chain break (see checker.brk) now that the
// next line's chain is known to hold (chainOK) or not; it reports whether
// the next line's own break is explained by it.
func (c *checker) resolveBreak(chainOK bool) bool {
	b := c.brk
	if b == nil {
		return false
	}
	c.brk = nil
	if chainOK && b.seq > c.start { // (entry 0's prev is all zero, a pruned log's first chains to pruned.json: a break there is its own)
		c.changed(b.seq-1, "content", c.brkPrev, fmt.Sprintf("entry %d does not match the hash that entry %d holds for it: its content or header was changed", b.seq-1, b.seq))
		return false
	}
	c.changed(b.seq, "chain", *b, fmt.Sprintf("entry %d's prev hash does not match entry %d, and entry %d does not match it: entry %d was changed or replaced", b.seq, b.seq-1, b.seq+1, b.seq))
	return true
}

// maxSize is the largest tree size: seqs are below it (format.MaxSeq).
const maxSize = 1<<63 - 1

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
	c.flush()
	if b := c.brk; b != nil {
		c.brk = nil
		c.changed(b.seq, "chain", *b, fmt.Sprintf("entry %d, the last, does not chain to entry %d: it was changed or added, unless entry %d was changed", b.seq, b.seq-1, b.seq-1))
		seq := b.seq
		c.tailBreak = &seq
	}
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
			c.rep.TornBytes = len(ch.torn)
			c.rep.Warnings = append(c.rep.Warnings, fmt.Sprintf("segment %s ends with an unterminated line of %d bytes: a write cut short (a crash, or the writer is at work); it is not part of the log", sg.Name, len(ch.torn)))
		} else {
			c.problem(ptr(c.next), "segment", &at, fmt.Sprintf("segment %s ends with an unterminated line, but it is not the last segment", sg.Name))
		}
	}
	if ch.padding > 0 && !last {
		c.problem(ptr(c.next), "segment", &at, fmt.Sprintf("segment %s ends with %d NUL bytes, which only the last segment may have", sg.Name, ch.padding))
	}
}
