package format

import (
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/tree"
)

// KeptRotation is a rotation record (docs/FORMAT.md §5a) that a prune
// deleted, kept in the prune state (§13.2) so that a verifier can still
// follow the chain of keys across the deleted entries: the record's line
// as it was stored, the right edge of the tree before it, and a
// consistency proof from the tree its signature covers to the tree at the
// prune point.
type KeptRotation struct {
	// Line is the record's entry line, without its newline, byte for
	// byte. It carries the record's SIG: the old key's signature on the
	// checkpoint of size seq+1.
	Line []byte
	// Edge is the right edge of the tree of entries 0 … seq-1 (largest
	// subtree first): with the record's leaf it gives the root of the
	// tree of size seq+1.
	Edge []tlog.Hash
	// Proof is the consistency proof (RFC 6962) from the tree of size
	// seq+1 to the tree at the prune point; empty when seq+1 is the
	// prune point.
	Proof []tlog.Hash
}

// KeptCheckpoint is what a kept rotation record shows once its line, edge
// and proof check: the record, and the checkpoint its signature covers
// (of Size = Seq+1 entries and root Root), still to be verified with the
// key the record hands over from.
type KeptCheckpoint struct {
	Seq      uint64
	Time     int64
	Rotation Rotation
	Size     uint64
	Root     tlog.Hash
	Sig      []byte
}

// Check checks k against the tree of the first below entries, whose root
// is root: its line is a live rotation record that ends its batch, at a
// seq below below; its edge has the count a tree of seq entries has; and
// the tree of size seq+1 that edge and the record's leaf give is a prefix
// of the tree at below (the proof checks). The signature is the caller's
// to verify, with the key in effect at seq+1.
func (k *KeptRotation) Check(below uint64, root tlog.Hash) (KeptCheckpoint, error) {
	var c KeptCheckpoint
	ln, err := ParseLine(k.Line)
	if err != nil {
		return c, fmt.Errorf("its line is malformed: %v", err)
	}
	if ln.Erased {
		return c, fmt.Errorf("entry %d is erased: it is not a rotation record", ln.Seq)
	}
	rot, ok := ParseRotation(ln.Event)
	if !ok {
		return c, fmt.Errorf("entry %d is not a rotation record", ln.Seq)
	}
	if ln.Sig == nil {
		return c, fmt.Errorf("entry %d, a rotation record, does not end its batch (it carries no signature)", ln.Seq)
	}
	if ln.Seq >= below {
		return c, fmt.Errorf("entry %d is not below the prune point %d", ln.Seq, below)
	}
	e, err := tree.FromHashes(ln.Seq, k.Edge)
	if err != nil {
		return c, fmt.Errorf("entry %d: its edge: %v", ln.Seq, err)
	}
	hd := ln.Header()
	e.Append(hd.LeafHash(), nil)
	c = KeptCheckpoint{Seq: ln.Seq, Time: ln.Time, Rotation: rot, Size: ln.Seq + 1, Root: e.Root(), Sig: ln.Sig}
	if c.Size == below {
		if len(k.Proof) != 0 || c.Root != root {
			return KeptCheckpoint{}, fmt.Errorf("entry %d: the tree of size %d it gives is not the tree at the prune point", ln.Seq, c.Size)
		}
		return c, nil
	}
	if err := tlog.CheckTree(k.Proof, int64(below), root, int64(c.Size), c.Root); err != nil {
		return KeptCheckpoint{}, fmt.Errorf("entry %d: the tree of size %d it gives is not a prefix of the tree at the prune point (%d): %v", ln.Seq, c.Size, below, err)
	}
	return c, nil
}
