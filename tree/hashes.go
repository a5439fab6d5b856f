package tree

import (
	"fmt"
	"math/bits"

	"golang.org/x/mod/sumdb/tlog"
)

// Hashes returns a copy of the roots of the complete subtrees that make
// up the edge, largest (leftmost) first: what FromHashes takes back. A
// pruned log keeps them in place of its deleted entries (docs/FORMAT.md
// §13).
func (e *Edge) Hashes() []tlog.Hash { return append([]tlog.Hash(nil), e.hashes...) }

// FromHashes returns the edge at size n whose complete subtrees have the
// given roots, largest first: as many as n has one bits.
func FromHashes(n uint64, hashes []tlog.Hash) (Edge, error) {
	if len(hashes) != bits.OnesCount64(n) {
		return Edge{}, fmt.Errorf("tree: the edge of a tree of %d leaves has %d hashes, not %d", n, bits.OnesCount64(n), len(hashes))
	}
	return Edge{n: n, hashes: append([]tlog.Hash(nil), hashes...)}, nil
}
