// Package tree keeps the right edge of an RFC 6962 Merkle tree: the roots
// of the complete subtrees that cover leaves [0, n), largest first. That is
// all a writer needs to compute the hashes tlog stores for each new leaf and
// all a streaming verifier needs to compute the root at any size, in memory
// that grows with log₂ n, not n.
//
// Hashes, their storage order and proofs are golang.org/x/mod/sumdb/tlog's;
// this package only adds the incremental form. Its tests check every result
// against tlog.StoredHashes and tlog.TreeHash.
package tree

import (
	"crypto/sha256"
	"fmt"
	"math/bits"

	"golang.org/x/mod/sumdb/tlog"
)

// EmptyRoot is the root hash of the empty tree: SHA-256 of nothing.
var EmptyRoot = tlog.Hash(sha256.Sum256(nil))

// Edge is the right edge of the tree of the first n leaves. The zero Edge
// is the empty tree. An Edge is not safe for concurrent use.
type Edge struct {
	n      uint64
	hashes []tlog.Hash // roots of complete subtrees, left to right
}

// Size returns the number of leaves.
func (e *Edge) Size() uint64 { return e.n }

// Append adds leaf n and appends to stored the hashes that tlog stores for
// it, starting at tlog.StoredHashIndex(0, n): the leaf hash, then one node
// hash for each subtree the leaf completes.
func (e *Edge) Append(leaf tlog.Hash, stored []tlog.Hash) []tlog.Hash {
	stored = append(stored, leaf)
	h := leaf
	for i := e.n; i&1 == 1; i >>= 1 {
		last := len(e.hashes) - 1
		h = tlog.NodeHash(e.hashes[last], h)
		e.hashes = e.hashes[:last]
		stored = append(stored, h)
	}
	e.hashes = append(e.hashes, h)
	e.n++
	return stored
}

// Root returns the tree's root hash.
func (e *Edge) Root() tlog.Hash {
	if e.n == 0 {
		return EmptyRoot
	}
	h := e.hashes[len(e.hashes)-1]
	for i := len(e.hashes) - 2; i >= 0; i-- {
		h = tlog.NodeHash(e.hashes[i], h)
	}
	return h
}

// Clone returns an independent copy of e.
func (e *Edge) Clone() Edge {
	return Edge{n: e.n, hashes: append([]tlog.Hash(nil), e.hashes...)}
}

// CopyFrom makes e a copy of src, reusing e's memory.
func (e *Edge) CopyFrom(src *Edge) {
	e.n = src.n
	e.hashes = append(e.hashes[:0], src.hashes...)
}

// EdgeIndexes returns the stored-hash indexes of the complete subtrees that
// make up the right edge at size n, largest first.
func EdgeIndexes(n uint64) []int64 {
	idx := make([]int64, 0, bits.OnesCount64(n))
	lo := uint64(0)
	for l := 63; l >= 0; l-- {
		if n&(1<<uint(l)) != 0 {
			idx = append(idx, tlog.StoredHashIndex(l, int64(lo>>uint(l))))
			lo += 1 << uint(l)
		}
	}
	return idx
}

// Load reads the right edge at size n from stored hashes.
func Load(n uint64, r tlog.HashReader) (Edge, error) {
	idx := EdgeIndexes(n)
	if len(idx) == 0 {
		return Edge{}, nil
	}
	hs, err := r.ReadHashes(idx)
	if err != nil {
		return Edge{}, err
	}
	if len(hs) != len(idx) {
		return Edge{}, fmt.Errorf("tree: read %d hashes, want %d", len(hs), len(idx))
	}
	return Edge{n: n, hashes: hs}, nil
}
