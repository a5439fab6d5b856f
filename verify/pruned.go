package verify

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/tree"
)

// PrunedSource is implemented by a Source that can hold a pruned log:
// one whose first entries were deleted, leaving pruned.json in their
// place (docs/FORMAT.md §13).
type PrunedSource interface {
	// Pruned returns the log's prune point, or nil if it was never
	// pruned. An error wrapping ErrDamaged is damage to the log.
	Pruned() (*layout.Pruned, error)
}

// PruneInfo says which entries a log no longer holds, and by which
// record they were deleted.
type PruneInfo struct {
	// Below: entries 0 to Below-1 were deleted.
	Below uint64 `json:"below"`
	// Record is the seq of the prune record that allows it, Time the
	// record's time (when the log was pruned), when Status is "ok".
	Record uint64    `json:"record"`
	Time   time.Time `json:"time,omitzero"`
	// Status: "ok" (an authenticated prune record allows exactly this),
	// "not allowed" (see the problems), "not checked" (the log is
	// damaged, or not signed by the key, so no record can be trusted).
	Status string `json:"status"`
}

// pruneSeen is a prune record read.
type pruneSeen struct {
	seq  uint64
	time int64
	p    format.Prune
}

// maxPrunes bounds the prune records a verifier keeps; a log has one per
// pruning.
const maxPrunes = 1 << 16

func (d *dirSource) Pruned() (*layout.Pruned, error) {
	p, err := layout.ReadPruned(d.dir)
	if err != nil {
		return nil, damaged("%s: %v", layout.PrunedFile, err)
	}
	return p, nil
}

func (c *checker) prunedRecord(r *lineResult) {
	if len(c.prunes) < maxPrunes {
		c.prunes = append(c.prunes, pruneSeen{seq: r.seq, time: r.time, p: r.prune})
	} else {
		c.problem(nil, "limit", nil, fmt.Sprintf("more than %d prune records: the others were not kept", maxPrunes))
	}
}

// startPruned starts c where a pruned log starts: after entry p.Below-1,
// from the chain link and tree edge pruned.json keeps. Nothing of it is
// trusted: the tree it starts is checked by every later signature, the
// link by entry p.Below's prev, and the prune point itself by the prune
// record (checkPruned).
func (c *checker) startPruned(p *layout.Pruned) {
	edge, err := tree.FromHashes(p.Below, p.Edge)
	if err != nil {
		return // ParsePruned checked the count
	}
	c.start, c.next, c.last, c.lastOK, c.lastTime, c.edge = p.Below, p.Below, p.Leaf, true, p.Time, edge
	c.reached()
	c.sigs.prev = p.Below // the first batch kept starts there
	c.keptRotations(p, edge.Root())
}

// keptRotations follows the rotation records that pruned.json keeps
// (docs/FORMAT.md §13.3 step 3): each must be part of the tree at the
// prune point (format.KeptRotation.Check), and is then judged as a
// rotation record read in the log is (§5a), its signature on the
// checkpoint of size seq+1 verified with the key it hands over from. The
// first one's signature picks the chain's first key, as the first batch
// signature does in a log never pruned. A record that fails is tampering
// at its seq.
func (c *checker) keptRotations(p *layout.Pruned, root tlog.Hash) {
	for i := range p.Rotations {
		kc, err := p.Rotations[i].Check(p.Below, root)
		if err != nil {
			seq := keptSeq(&p.Rotations[i])
			c.rep.ForgedRotations++
			c.problem(&seq, "rotation", nil, fmt.Sprintf("%s keeps a rotation record that does not check: %v", layout.PrunedFile, err))
			continue
		}
		c.sigs.chain.choose(kc.Sig)
		sp := sigPoint{size: kc.Size, root: kc.Root, sig: kc.Sig, ok: true, clean: true}
		n := len(c.sigs.chain.epochs)
		if why := c.sigs.chain.rotate(kc.Seq, kc.Rotation, &sp); why != "" {
			c.rep.ForgedRotations++
			c.problem(ptr(kc.Seq), "rotation", nil, why+" (kept in "+layout.PrunedFile+")")
		} else if len(c.sigs.chain.epochs) > n {
			c.rep.Signatures++ // the record's signature verified with the key in effect
		}
	}
}

// keptSeq is the seq of a kept rotation's line (ParsePruned checked that
// it parses).
func keptSeq(k *format.KeptRotation) uint64 {
	ln, _ := format.ParseLine(k.Line)
	return ln.Seq
}

// keptSegments drops the segments wholly below the prune point (an
// interrupted prune leaves them), as layout.KeptSegments does.
func keptSegments(segs []Segment, p *layout.Pruned) []Segment {
	if p == nil {
		return segs
	}
	i := 0
	for i+1 < len(segs) && segs[i+1].First <= p.Below {
		i++
	}
	return segs[i:]
}

// openPruned reads the prune point, if the source has one.
func (v *verification) openPruned() error {
	ps, ok := v.src.(PrunedSource)
	if !ok {
		return nil
	}
	p, err := ps.Pruned()
	if err != nil {
		if !errors.Is(err, ErrDamaged) {
			return err
		}
		v.rep.Problems = append(v.rep.Problems, Problem{Kind: "pruned", Reason: damage(err)})
		return nil
	}
	v.pruned = p
	v.segs = keptSegments(v.segs, p)
	v.rep.Segments = len(v.segs)
	return nil
}

// checkPruned checks the prune point against the prune records among the
// authenticated entries: the one that allows the most must allow exactly
// the entries pruned.json says are gone, with the same chain link and
// tree. Entries deleted beyond what a record allows are missing.
func (v *verification) checkPruned() {
	rep, ch, p := v.rep, v.ch, v.pruned
	var best *pruneSeen
	for i := range ch.prunes {
		if r := &ch.prunes[i]; r.seq < rep.Authenticated && (best == nil || r.p.Below > best.p.Below) {
			best = r
		}
	}
	if p == nil {
		if best != nil && best.p.Below > 0 && v.firstSeq() == 0 {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("entry %d is a prune record that allows deleting the entries below %d, but the log still holds them: a prune not finished (the writer finishes it when it prunes again)", best.seq, best.p.Below))
		}
		return
	}
	info := &PruneInfo{Below: p.Below, Record: p.Record, Status: "not allowed"}
	rep.Pruned = info
	edge, _ := tree.FromHashes(p.Below, p.Edge)
	switch {
	case v.wrongKey || best == nil && v.entryProblem():
		// No record can be trusted (the key is not the log's), or the
		// record may be hidden in the damage: the log is not valid anyway.
		info.Status = "not checked"
	case best == nil:
		rep.Missing += p.Below
		ch.problem(ptr(0), "pruned", nil, fmt.Sprintf("entries 0 to %d were deleted (%s), but no prune record covered by a verified signature allows it", p.Below-1, layout.PrunedFile))
	case best.p.Below < p.Below:
		rep.Missing += p.Below - best.p.Below
		ch.problem(ptr(best.p.Below), "pruned", nil, fmt.Sprintf("entries %d to %d were deleted, but the log's prune record (entry %d) allows deleting only the entries below %d: the pruned range was widened", best.p.Below, p.Below-1, best.seq, best.p.Below))
	case best.p.Below > p.Below:
		info.Status, info.Record, info.Time = "ok", best.seq, time.Unix(0, best.time).UTC()
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("the prune record at entry %d allows deleting the entries below %d, but only those below %d are gone: a prune not finished", best.seq, best.p.Below, p.Below))
	case best.p.Leaf != p.Leaf || best.p.Root != edge.Root():
		ch.problem(ptr(p.Below), "pruned", nil, fmt.Sprintf("%s does not match the prune record at entry %d: its chain link or tree is not the one the record names", layout.PrunedFile, best.seq))
	case best.p.Rotations != uint64(len(p.Rotations)):
		ch.problem(ptr(p.Below), "pruned", nil, fmt.Sprintf("%s keeps %d rotation records, but the prune record at entry %d says %d were pruned: the kept chain of keys was cut (or added to)", layout.PrunedFile, len(p.Rotations), best.seq, best.p.Rotations))
	default:
		info.Status, info.Record, info.Time = "ok", best.seq, time.Unix(0, best.time).UTC()
	}
}

// firstSeq is the seq of the first entry the log holds (its prune point).
func (v *verification) firstSeq() uint64 {
	if v.pruned != nil {
		return v.pruned.Below
	}
	return 0
}

// prunedLines adds the prune point to the text report.
func prunedLines(r *Report, p func(string, string, ...any), more func(string, ...any)) {
	pr := r.Pruned
	if pr == nil {
		return
	}
	switch pr.Status {
	case "ok":
		p("pruned:", "entries 0 to %d were deleted on %s by the prune record at entry %d;", pr.Below-1, pr.Time.Format(time.RFC3339), pr.Record)
		more("the entries after them verify from the tree hashes the log keeps (%s)", layout.PrunedFile)
	case "not checked":
		p("pruned:", "entries 0 to %d are gone (%s); no prune record could be checked", pr.Below-1, layout.PrunedFile)
	default:
		p("pruned:", "entries 0 to %d are gone, and NOT as a prune record allows (see the problems)", pr.Below-1)
	}
}

// entryProblem reports whether a problem is located at an entry.
func (v *verification) entryProblem() bool {
	for _, p := range v.rep.Problems {
		if p.Seq != nil {
			return true
		}
	}
	return v.ch.omittedFirst != nil
}
