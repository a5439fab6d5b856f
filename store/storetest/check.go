package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/store"
)

// logView is a log as the suite read it back and checked it.
type logView struct {
	lines  [][]byte // without newlines
	parsed []format.Line
	leaves []tlog.Hash // computed from the lines
	hashes []tlog.Hash // stored hashes computed from the leaves by tlog
}

// readLog reads s up to h.Size with ReadLines and checks it as a verifier
// would, against hashes it computes itself with tlog: every line parses
// and chains to the one before; the store's leaves and stored hashes are
// the computed ones; each signature line ends a batch (BatchEnd) and signs
// the tree at its size; h's checkpoint signs the tree at h.Size and h's
// LastLeaf and LastTime describe the last line. It returns errors rather
// than failing a test, for use from any goroutine.
func readLog(ctx context.Context, s store.Store, h store.Head) (*logView, error) {
	v := &logView{}
	err := s.ReadLines(ctx, 0, h.Size, func(l store.Line) error {
		seq := uint64(len(v.lines))
		if l.Seq != seq {
			return fmt.Errorf("ReadLines gave entry %d where entry %d was due", l.Seq, seq)
		}
		line := bytes.Clone(l.Bytes)
		p, err := format.ParseLine(line)
		if err != nil {
			return fmt.Errorf("entry %d: %w", seq, err)
		}
		var prev tlog.Hash
		if seq > 0 {
			prev = v.leaves[seq-1]
		}
		if p.Seq != seq || p.Prev != prev {
			return fmt.Errorf("entry %d: the line says seq %d, prev %x; want prev %x", seq, p.Seq, p.Prev, prev)
		}
		hdr := p.Header()
		enc := hdr.Encode()
		if leaf := hdr.LeafHash(); l.Leaf != leaf {
			return fmt.Errorf("entry %d: the store gives leaf %x, the line hashes to %x", seq, l.Leaf, leaf)
		}
		hs, err := tlog.StoredHashes(int64(seq), enc[:], tlog.HashReaderFunc(v.readHashes))
		if err != nil {
			return err
		}
		v.lines, v.parsed = append(v.lines, line), append(v.parsed, p)
		v.leaves, v.hashes = append(v.leaves, l.Leaf), append(v.hashes, hs...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if uint64(len(v.lines)) != h.Size {
		return nil, fmt.Errorf("ReadLines gave %d entries of a head of %d", len(v.lines), h.Size)
	}
	if err := v.checkHashes(ctx, s); err != nil {
		return nil, err
	}
	if err := v.checkSignatures(ctx, s); err != nil {
		return nil, err
	}
	return v, v.checkHead(h)
}

// readHashes reads the computed stored hashes, as a tlog.HashReader.
func (v *logView) readHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, idx := range indexes {
		if idx < 0 || idx >= int64(len(v.hashes)) {
			return nil, fmt.Errorf("no computed hash %d", idx)
		}
		out[i] = v.hashes[idx]
	}
	return out, nil
}

// root returns the computed root of the tree of the first n entries.
func (v *logView) root(n uint64) tlog.Hash {
	r, err := tlog.TreeHash(int64(n), tlog.HashReaderFunc(v.readHashes))
	if err != nil {
		panic(err) // n is within the view
	}
	return r
}

// checkHashes compares every stored hash of the view's tree, read in one
// call, with the computed ones.
func (v *logView) checkHashes(ctx context.Context, s store.Store) error {
	idx := make([]int64, len(v.hashes))
	for i := range idx {
		idx[i] = int64(i)
	}
	got, err := s.ReadHashes(ctx, idx)
	if err != nil {
		return fmt.Errorf("ReadHashes of the tree of %d entries: %w", len(v.lines), err)
	}
	if len(got) != len(idx) {
		return fmt.Errorf("ReadHashes gave %d hashes for %d indexes", len(got), len(idx))
	}
	for i := range got {
		if got[i] != v.hashes[i] {
			return fmt.Errorf("stored hash %d is %x; tlog computes %x", i, got[i], v.hashes[i])
		}
	}
	return nil
}

// checkSignatures checks that exactly the lines that end a batch carry a
// signature, which signs the checkpoint of the tree they end, and that the
// last line is one of them.
func (v *logView) checkSignatures(ctx context.Context, s store.Store) error {
	kv := verifier()
	for seq, p := range v.parsed {
		size := uint64(seq) + 1
		end, err := s.BatchEnd(ctx, size)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("BatchEnd(%d): %w", size, err)
		}
		if atEnd := err == nil && end == size; atEnd != (p.Sig != nil) {
			return fmt.Errorf("entry %d: signed %t, but BatchEnd(%d) = %d, %v", seq, p.Sig != nil, size, end, err)
		}
		if p.Sig == nil {
			continue
		}
		text := checkpoint.Checkpoint{Origin: Origin, Size: size, Root: v.root(size)}.Text()
		if !checkpoint.VerifyText(kv, text, p.Sig) {
			return fmt.Errorf("entry %d: its signature does not sign the tree of %d entries", seq, size)
		}
	}
	if n := len(v.parsed); n > 0 && v.parsed[n-1].Sig == nil {
		return fmt.Errorf("the last entry, %d, carries no signature", n-1)
	}
	return nil
}

// checkHead checks h against the view's last line and tree.
func (v *logView) checkHead(h store.Head) error {
	if h.Size == 0 {
		if h.Checkpoint != nil || h.LastLeaf != (tlog.Hash{}) || h.LastTime != 0 {
			return fmt.Errorf("the empty log's head is %+v, want the zero Head", h)
		}
		return nil
	}
	last := v.parsed[h.Size-1]
	if h.LastLeaf != v.leaves[h.Size-1] || h.LastTime != last.Time {
		return fmt.Errorf("head of %d: last leaf %x, time %d; the last line has %x, %d", h.Size, h.LastLeaf, h.LastTime, v.leaves[h.Size-1], last.Time)
	}
	c, _, err := checkpoint.Open(h.Checkpoint, verifiers(), Origin)
	if err != nil {
		return fmt.Errorf("head of %d: %w", h.Size, err)
	}
	if c.Size != h.Size || c.Root != v.root(h.Size) {
		return fmt.Errorf("head of %d: the checkpoint is for size %d, root %x; want root %x", h.Size, c.Size, c.Root, v.root(h.Size))
	}
	return nil
}
