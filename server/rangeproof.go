package server

import (
	"encoding/base64"
	"fmt"
	"math/bits"
	"slices"

	"golang.org/x/mod/sumdb/tlog"
)

// rangeTree holds what the RFC 6962 inclusion proofs of consecutive
// leaves [lo, hi) in the tree of size t are made of: at each level L of
// the tree, the nodes that the leaves' paths go through and their
// siblings, nodes lo>>L&^1 to (hi-1)>>L|1 (the last clipped to the tree;
// a node of level L covers leaves j<<L to min((j+1)<<L, t)). Nodes within
// the range are hashed from the leaves the caller has; the few others,
// two a level at most, and the previous leaf are read from the stored
// hashes in one ReadHashes call. The one node of the top level is the
// tree's root: comparing it with a checkpoint's checks every proof of
// the range at once, since each proof is made of this table's nodes.
type rangeTree struct {
	t, lo, hi uint64
	depth     int         // levels below the root: bits.Len64(t-1)
	first     [64]uint64  // first[L] is the index of level L's first node
	off       [65]int     // off[L] is where level L starts in nodes
	nodes     []tlog.Hash // the levels' nodes, level 0 first
	prev      tlog.Hash   // the leaf hash of entry lo-1 (zero for lo = 0)
	b64       []byte      // the nodes in base64, made on first use
	stored    []int64     // the stored hashes read, in the order build uses them
	read      []tlog.Hash
	next      int
}

// newRangeTree builds the table of leaves [lo, lo+len(leaves)) in the
// tree of size t, reading the stored hashes it needs from r.
func newRangeTree(t, lo uint64, leaves []tlog.Hash, r tlog.HashReader) (*rangeTree, error) {
	p := new(rangeTree)
	if err := p.init(t, lo, leaves, r); err != nil {
		return nil, err
	}
	return p, nil
}

// init is newRangeTree into p, reusing its memory.
func (p *rangeTree) init(t, lo uint64, leaves []tlog.Hash, r tlog.HashReader) error {
	n := uint64(len(leaves))
	if n == 0 || lo+n > t || lo+n < lo || t > 1<<63-1 {
		return fmt.Errorf("no inclusion proofs for leaves %d to %d in a tree of %d", lo, lo+n-1, t)
	}
	p.t, p.lo, p.hi, p.depth = t, lo, lo+n, bits.Len64(t-1)
	p.stored, p.read, p.b64, p.prev = p.stored[:0], nil, p.b64[:0], tlog.Hash{}
	for L := 0; L <= p.depth; L++ {
		a, b := p.span(L)
		p.first[L] = a
		p.off[L+1] = p.off[L] + int(b-a+1)
	}
	if size := p.off[p.depth+1]; cap(p.nodes) >= size {
		p.nodes = p.nodes[:size]
	} else {
		p.nodes = make([]tlog.Hash, size)
	}
	p.build(nil, true) // collect the stored hashes needed
	if lo > 0 && lo&1 == 0 {
		p.stored = append(p.stored, tlog.StoredHashIndex(0, int64(lo-1)))
	}
	if len(p.stored) > 0 {
		hs, err := r.ReadHashes(p.stored)
		if err != nil {
			return err
		}
		if len(hs) != len(p.stored) {
			return fmt.Errorf("read %d hashes, got %d", len(p.stored), len(hs))
		}
		p.read = hs
	}
	p.build(leaves, false)
	switch {
	case lo&1 == 1:
		p.prev = p.nodes[0] // node lo-1 of level 0
	case lo > 0:
		p.prev = p.read[len(p.read)-1]
	}
	return nil
}

// span returns the first and last node of level L in the table.
func (p *rangeTree) span(L int) (a, b uint64) {
	return (p.lo >> L) &^ 1, min((p.hi-1)>>L|1, (p.t-1)>>L)
}

// build fills the table from the leaves and the stored hashes read; with
// collect it only lists the stored hashes it will need, in the order it
// will use them.
func (p *rangeTree) build(leaves []tlog.Hash, collect bool) {
	p.next = 0
	k := 0
	for L := 0; L <= p.depth; L++ {
		a, b := p.span(L)
		for j := a; j <= b; j, k = j+1, k+1 {
			switch {
			case L == 0 && j >= p.lo && j < p.hi:
				if !collect {
					p.nodes[k] = leaves[j-p.lo]
				}
			case L > 0 && 2*j >= p.first[L-1] && 2*j < p.first[L-1]+uint64(p.off[L]-p.off[L-1]):
				// Both children are in the table (or the right one is
				// beyond the tree).
				if collect {
					continue
				}
				left := p.node(L-1, 2*j)
				if (2*j+1)<<(L-1) < p.t {
					p.nodes[k] = tlog.NodeHash(left, p.node(L-1, 2*j+1))
				} else {
					p.nodes[k] = left
				}
			default:
				p.nodes[k] = p.outside(L, j, collect)
			}
		}
	}
}

// outside returns the hash of node j of level L, whose children are not
// in the table: its stored hash if it is complete, else (the tree's
// right edge) the hash of its children.
func (p *rangeTree) outside(L int, j uint64, collect bool) tlog.Hash {
	if (j+1)<<L <= p.t {
		if collect {
			p.stored = append(p.stored, tlog.StoredHashIndex(L, int64(j)))
			return tlog.Hash{}
		}
		h := p.read[p.next]
		p.next++
		return h
	}
	left := p.outside(L-1, 2*j, collect)
	if (2*j+1)<<(L-1) >= p.t {
		return left
	}
	right := p.outside(L-1, 2*j+1, collect)
	if collect {
		return tlog.Hash{}
	}
	return tlog.NodeHash(left, right)
}

// index is the position of node j of level L in nodes.
func (p *rangeTree) index(L int, j uint64) int { return p.off[L] + int(j-p.first[L]) }

func (p *rangeTree) node(L int, j uint64) tlog.Hash { return p.nodes[p.index(L, j)] }

// root is the root hash of the tree of size t.
func (p *rangeTree) root() tlog.Hash { return p.nodes[len(p.nodes)-1] }

// proof appends the inclusion proof of leaf m to dst, deepest sibling
// first, as tlog.ProveRecord returns it.
func (p *rangeTree) proof(dst tlog.RecordProof, m uint64) tlog.RecordProof {
	for L := 0; L < p.depth; L++ {
		if s := (m >> L) ^ 1; s<<L < p.t {
			dst = append(dst, p.node(L, s))
		}
	}
	return dst
}

// proofLen is the number of hashes in the proof of leaf m.
func (p *rangeTree) proofLen(m uint64) int {
	n := 0
	for L := 0; L < p.depth; L++ {
		if s := (m >> L) ^ 1; s<<L < p.t {
			n++
		}
	}
	return n
}

// appendProofJSON appends the proof of leaf m as a JSON array of base64
// strings, as encoding/json writes a tlog.RecordProof.
func (p *rangeTree) appendProofJSON(dst []byte, m uint64) []byte {
	if len(p.b64) == 0 {
		p.b64 = slices.Grow(p.b64, len(p.nodes)*base64Len)[:len(p.nodes)*base64Len]
		for i := range p.nodes {
			base64.StdEncoding.Encode(p.b64[i*base64Len:], p.nodes[i][:])
		}
	}
	dst = append(dst, '[')
	sep := false
	for L := 0; L < p.depth; L++ {
		if s := (m >> L) ^ 1; s<<L < p.t {
			if sep {
				dst = append(dst, ',')
			}
			x := p.index(L, s) * base64Len
			dst = append(dst, '"')
			dst = append(dst, p.b64[x:x+base64Len]...)
			dst = append(dst, '"')
			sep = true
		}
	}
	return append(dst, ']')
}

// rangeProofs returns the inclusion proofs of leaves [first, first+n) in
// the tree of size t, the same as tlog.ProveRecord's for each, reading
// the leaves and every other stored hash from r.
func rangeProofs(t, first, n int64, r tlog.HashReader) ([]tlog.RecordProof, error) {
	if first < 0 || n <= 0 || first+n > t {
		return nil, fmt.Errorf("no inclusion proofs for leaves %d to %d in a tree of %d", first, first+n-1, t)
	}
	idx := make([]int64, n)
	for i := range idx {
		idx[i] = tlog.StoredHashIndex(0, first+int64(i))
	}
	leaves, err := r.ReadHashes(idx)
	if err != nil {
		return nil, err
	}
	p, err := newRangeTree(uint64(t), uint64(first), leaves, r)
	if err != nil {
		return nil, err
	}
	out := make([]tlog.RecordProof, n)
	for i := range out {
		out[i] = p.proof(tlog.RecordProof{}, uint64(first+int64(i)))
	}
	return out, nil
}
