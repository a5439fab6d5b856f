package format

import (
	"bytes"
	"strconv"
)

// PruneKind is the kind of a prune record: the live entry a writer appends
// before it deletes the segments of entries 0 … Below-1 (docs/FORMAT.md
// §13).
const PruneKind = "sealog.prune"

// Prune is what a prune record says: entries below Below may be deleted;
// Leaf is the leaf hash of entry Below-1 and Root the root of the tree of
// entries 0 … Below-1, which the entries that remain build on; Rotations
// is how many rotation records lie below Below (the prune state keeps
// them all: docs/FORMAT.md §13.2).
type Prune struct {
	Below     uint64
	Leaf      Hash
	Root      Hash
	Rotations uint64
}

// The fixed parts of a prune record's event, in order:
//
//	{"kind":"sealog.prune","payload":{"below":BELOW,"leaf":"HASH","root":"HASH"}}
//	{"kind":"sealog.prune","payload":{"below":BELOW,"leaf":"HASH","root":"HASH","rotations":N}}
//
// the second when N, at least 1, rotation records lie below BELOW.
var (
	pruneRots    = []byte(`","rotations":`)
	pruneRotsEnd = []byte(`}}`)
	pruneKind    = []byte(`{"kind":"sealog.prune","payload":{"below":`)
	pruneLeaf    = []byte(`,"leaf":"`)
	pruneRoot    = []byte(`","root":"`)
	pruneEnd     = []byte(`"}}`)
	pruneTotal   = len(pruneKind) + len(pruneLeaf) + len(pruneRoot) + len(pruneEnd) + 4*HashLen
)

// ParsePrune reports whether event, the EVENT bytes of a live line, is a
// prune record in the one form docs/FORMAT.md §13 allows (BELOW at least
// 1), and if so what it says. Any other event names nothing.
func ParsePrune(event []byte) (Prune, bool) {
	var p Prune
	rest, ok := bytes.CutPrefix(event, pruneKind)
	if !ok || len(event) > pruneTotal+len(pruneRots)+40 {
		return p, false
	}
	below, n := leadingUint(rest)
	if n == 0 || below == 0 {
		return p, false
	}
	rest = rest[n:]
	if rest, ok = bytes.CutPrefix(rest, pruneLeaf); !ok || len(rest) < 2*HashLen || !decodeHex(p.Leaf[:], rest[:2*HashLen]) {
		return p, false
	}
	if rest, ok = bytes.CutPrefix(rest[2*HashLen:], pruneRoot); !ok || len(rest) < 2*HashLen || !decodeHex(p.Root[:], rest[:2*HashLen]) {
		return p, false
	}
	rest = rest[2*HashLen:]
	if tail, ok := bytes.CutPrefix(rest, pruneRots); ok {
		n, w := leadingUint(tail)
		if w == 0 || n == 0 || !bytes.Equal(tail[w:], pruneRotsEnd) {
			return p, false
		}
		p.Rotations = n
	} else if !bytes.Equal(rest, pruneEnd) {
		return p, false
	}
	p.Below = below
	return p, true
}

// AppendPruneEvent appends the prune record's event to dst: the only form
// ParsePrune accepts.
func AppendPruneEvent(dst []byte, p Prune) []byte {
	dst = append(dst, pruneKind...)
	dst = strconv.AppendUint(dst, p.Below, 10)
	dst = append(dst, pruneLeaf...)
	dst = appendHex(dst, p.Leaf[:])
	dst = append(dst, pruneRoot...)
	dst = appendHex(dst, p.Root[:])
	if p.Rotations > 0 {
		dst = append(dst, pruneRots...)
		dst = strconv.AppendUint(dst, p.Rotations, 10)
		return append(dst, pruneRotsEnd...)
	}
	return append(dst, pruneEnd...)
}
