//go:build unix

package file

import (
	"bytes"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/tree"
)

// scanner replays lines during recovery, computing what the writer
// computed: leaf hashes, the tree, the index entries and stored hashes.
type scanner struct {
	origin string
	next   uint64 // seq the next line must have
	edge   tree.Edge
	last   tlog.Hash // leaf hash of entry next-1
	time   int64     // time of entry next-1

	segOff []int64     // index entries (offsets) of lines scanned in this segment
	hashes []tlog.Hash // stored hashes of lines scanned in this segment
	stored []tlog.Hash // scratch
	// signed is the state after the newest line that carries a signature
	// in this segment, or at the segment's start (sig nil) before any.
	signed signedPoint
	// ck is the newest signature seen in any segment, and the tree it
	// signs: the log's checkpoint once the scanner is rewound to it.
	ck struct {
		next uint64
		root tlog.Hash
		sig  []byte
	}
}

// signedPoint is the state just after a line that carries a signature.
type signedPoint struct {
	next    uint64
	end     int64 // offset just past the line
	prevEnd int64 // end of the signed point before it in the segment (0 at its start)
	edge    tree.Edge
	last    tlog.Hash
	time    int64
	nOff    int
	nHashes int
	sig     []byte
}

// add checks one complete line at offset off and folds it in. An error
// means the line is not the entry expected at this point.
func (sc *scanner) add(line []byte, off int64) error {
	l, err := format.ParseLine(line)
	if err != nil {
		return err
	}
	if l.Seq != sc.next {
		return fmt.Errorf("seq %d where %d was expected", l.Seq, sc.next)
	}
	if l.Prev != sc.last {
		return fmt.Errorf("entry %d: prev is not the leaf hash of entry %d", l.Seq, int64(l.Seq)-1)
	}
	if l.Time < sc.time {
		return fmt.Errorf("entry %d: time goes backwards", l.Seq)
	}
	h := l.Header()
	leaf := h.LeafHash()
	sc.stored = sc.edge.Append(leaf, sc.stored[:0])
	sc.hashes = append(sc.hashes, sc.stored...)
	sc.segOff = append(sc.segOff, off)
	sc.next++
	sc.last = leaf
	sc.time = l.Time
	if l.Sig != nil {
		sc.mark(off+int64(len(line))+1, l.Sig)
	}
	return nil
}

// mark records the current state as the newest signed point.
func (sc *scanner) mark(end int64, sig []byte) {
	p := &sc.signed
	p.edge.CopyFrom(&sc.edge)
	p.prevEnd = p.end
	if end == 0 {
		p.prevEnd = 0
	}
	p.next, p.end, p.last, p.time = sc.next, end, sc.last, sc.time
	p.nOff, p.nHashes = len(sc.segOff), len(sc.hashes)
	p.sig = append(p.sig[:0], sig...)
	if sig == nil {
		p.sig = nil
	}
}

// text returns the checkpoint text a signed point's signature covers.
func (p *signedPoint) text(origin string) []byte {
	return checkpoint.Checkpoint{Origin: origin, Size: p.next, Root: p.edge.Root()}.Text()
}

// restore rewinds the scanner to a signed point.
func (sc *scanner) restore(p *signedPoint) {
	sc.next, sc.last, sc.time = p.next, p.last, p.time
	sc.edge.CopyFrom(&p.edge)
	sc.segOff = sc.segOff[:p.nOff]
	sc.hashes = sc.hashes[:p.nHashes]
}

// startSegment resets the per-segment buffers; the segment's start is its
// first signed point (covered by the previous segment's last signature,
// which is kept as the checkpoint).
func (sc *scanner) startSegment() {
	sc.keepCheckpoint()
	sc.segOff = sc.segOff[:0]
	sc.hashes = sc.hashes[:0]
	sc.mark(0, nil)
}

// keepCheckpoint records the newest signed point's signature as the
// checkpoint, if it has one.
func (sc *scanner) keepCheckpoint() {
	if p := &sc.signed; p.sig != nil {
		sc.ck.next, sc.ck.root = p.next, p.edge.Root()
		sc.ck.sig = append(sc.ck.sig[:0], p.sig...)
	}
}

// hasSig reports whether a line appears to carry a signature member.
func hasSig(line []byte) bool { return bytes.Contains(line, []byte(`,"sig":"`)) }
