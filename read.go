package sealog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/store"
)

// Head is a log's committed state.
type Head struct {
	Size uint64 // number of committed entries
	// Checkpoint is the signed checkpoint for Size, its signature checked
	// with the log's verifier key; zero when Size is 0.
	Checkpoint Checkpoint
}

// Head returns the log's committed state as of now (another process
// sharing the store may have appended since the last call), with its
// checkpoint's signature verified.
func (l *Log) Head(ctx context.Context) (Head, error) {
	h, err := l.st.Head(ctx)
	if err != nil {
		return Head{}, fmt.Errorf("sealog: %w", err)
	}
	if h.Size == 0 {
		return Head{}, nil
	}
	ck, err := l.verifyHead(ctx, h)
	if err != nil {
		return Head{}, err
	}
	return Head{Size: h.Size, Checkpoint: ck}, nil
}

// verifyHead checks the head's checkpoint: signed by the log's key, for
// the head's size. The last checkpoint verified is remembered.
func (l *Log) verifyHead(ctx context.Context, h store.Head) (Checkpoint, error) {
	l.ckMu.Lock()
	defer l.ckMu.Unlock()
	if l.ckNote != nil && bytes.Equal(l.ckNote, h.Checkpoint) {
		return l.ckParsed, nil
	}
	c, _, err := checkpoint.Open(h.Checkpoint, note.VerifierList(l.verifierFor(h.Size)), l.origin)
	if err != nil {
		// Another process may have rotated the key since: follow the
		// chain, then try again.
		if cerr := l.loadChain(ctx, h); cerr != nil {
			return Checkpoint{}, cerr
		}
		c, _, err = checkpoint.Open(h.Checkpoint, note.VerifierList(l.verifierFor(h.Size)), l.origin)
	}
	if err != nil {
		return Checkpoint{}, fmt.Errorf("sealog: %s: %w: the head's checkpoint: %v", l.name, ErrCorrupt, err)
	}
	if c.Size != h.Size {
		return Checkpoint{}, fmt.Errorf("sealog: %s: %w: the head has %d entries but its checkpoint is for %d", l.name, ErrCorrupt, h.Size, c.Size)
	}
	l.ckNote = append([]byte(nil), h.Checkpoint...)
	l.ckParsed = Checkpoint{Origin: c.Origin, Size: c.Size, Root: c.Root, Note: l.ckNote}
	return l.ckParsed, nil
}

// Checkpoint returns the latest signed checkpoint (ErrEmpty for a log
// without entries).
func (l *Log) Checkpoint(ctx context.Context) (Checkpoint, error) {
	h, err := l.Head(ctx)
	if err != nil {
		return Checkpoint{}, err
	}
	if h.Size == 0 {
		return Checkpoint{}, ErrEmpty
	}
	return h.Checkpoint, nil
}

// Entry returns entry seq, checked: its line is tied by an inclusion proof
// to the head's signed checkpoint, so a line changed in the store is an
// error wrapping ErrCorrupt, never a silently wrong entry.
func (l *Log) Entry(ctx context.Context, seq uint64) (Entry, error) {
	h, err := l.Head(ctx)
	if err != nil {
		return Entry{}, err
	}
	if seq >= h.Size {
		return Entry{}, fmt.Errorf("sealog: entry %d: %w (the log has %d entries)", seq, ErrNotFound, h.Size)
	}
	line, err := l.st.ReadLine(ctx, seq)
	if err != nil {
		return Entry{}, fmt.Errorf("sealog: %w", err)
	}
	return l.decode(ctx, h.Checkpoint, line.Seq, line.Bytes)
}

// Entries iterates over entries [from, to) in order, each checked as
// Entry checks it; to is capped at the log's size when the iteration
// starts. It stops at the first error, which it yields.
func (l *Log) Entries(ctx context.Context, from, to uint64) iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		h, err := l.Head(ctx)
		if err != nil {
			yield(Entry{}, err)
			return
		}
		stop := errors.New("stop")
		err = l.st.ReadLines(ctx, from, min(to, h.Size), func(ln store.Line) error {
			e, err := l.decode(ctx, h.Checkpoint, ln.Seq, bytes.Clone(ln.Bytes))
			if err != nil {
				return err
			}
			if !yield(e, nil) {
				return stop
			}
			return nil
		})
		if err != nil && err != stop {
			if !errors.Is(err, ErrCorrupt) {
				err = fmt.Errorf("sealog: %w", err)
			}
			yield(Entry{}, err)
		}
	}
}

// decode parses a stored line into an Entry and checks it against ck, a
// verified checkpoint, with an inclusion proof from the stored hashes.
func (l *Log) decode(ctx context.Context, ck Checkpoint, seq uint64, line []byte) (Entry, error) {
	ln, err := format.ParseLine(line)
	if err != nil {
		return Entry{}, fmt.Errorf("sealog: entry %d: %w: %w", seq, ErrCorrupt, err)
	}
	if ln.Seq != seq {
		return Entry{}, fmt.Errorf("sealog: entry %d: %w: the stored line says seq %d", seq, ErrCorrupt, ln.Seq)
	}
	h := ln.Header()
	leaf := h.LeafHash()
	proof, err := tlog.ProveRecord(int64(ck.Size), int64(seq), l.HashReader(ctx))
	if err != nil {
		return Entry{}, fmt.Errorf("sealog: entry %d: %w", seq, err)
	}
	if tlog.CheckRecord(proof, int64(ck.Size), ck.Root, int64(seq), leaf) != nil {
		return Entry{}, fmt.Errorf("sealog: entry %d: %w: its line is not in the tree of the log's signed checkpoint (size %d)", seq, ErrCorrupt, ck.Size)
	}
	e := Entry{Seq: seq, Time: time.Unix(0, ln.Time).UTC(), Erased: ln.Erased, LeafHash: leaf, BodyHash: h.BodyHash, Prev: ln.Prev, Line: line}
	if !ln.Erased {
		ev, err := format.ParseEvent(ln.Event)
		if err != nil {
			return Entry{}, fmt.Errorf("sealog: entry %d: %w: %w", seq, ErrCorrupt, err)
		}
		e.Kind, e.Actor, e.Resource, e.Payload = ev.Kind, ev.Actor, ev.Resource, ev.Payload
	}
	return e, nil
}

// InclusionProof returns the proof that entry seq is in the tree of the
// first size entries (0 means the current size).
func (l *Log) InclusionProof(ctx context.Context, seq, size uint64) (tlog.RecordProof, error) {
	h, err := l.st.Head(ctx)
	if err != nil {
		return nil, fmt.Errorf("sealog: %w", err)
	}
	if size == 0 {
		size = h.Size
	}
	if seq >= size || size > h.Size {
		return nil, fmt.Errorf("sealog: no inclusion proof for entry %d in a tree of %d (the log has %d entries)", seq, size, h.Size)
	}
	p, err := tlog.ProveRecord(int64(size), int64(seq), l.HashReader(ctx))
	if err != nil {
		return nil, fmt.Errorf("sealog: %w", err)
	}
	return p, nil
}

// ConsistencyProof returns the proof that the tree of the first oldSize
// entries is a prefix of the tree of the first newSize (0 means the
// current size).
func (l *Log) ConsistencyProof(ctx context.Context, oldSize, newSize uint64) (tlog.TreeProof, error) {
	h, err := l.st.Head(ctx)
	if err != nil {
		return nil, fmt.Errorf("sealog: %w", err)
	}
	if newSize == 0 {
		newSize = h.Size
	}
	if oldSize > newSize || newSize > h.Size {
		return nil, fmt.Errorf("sealog: no consistency proof from size %d to %d (the log has %d entries)", oldSize, newSize, h.Size)
	}
	p, err := tlog.ProveTree(int64(newSize), int64(oldSize), l.HashReader(ctx))
	if err != nil {
		return nil, fmt.Errorf("sealog: %w", err)
	}
	return p, nil
}

// TreeHash returns the root hash of the tree of the first size entries,
// from the stored hashes (unverified: CheckpointAt returns a signed one).
func (l *Log) TreeHash(ctx context.Context, size uint64) (tlog.Hash, error) {
	h, err := l.st.Head(ctx)
	if err != nil {
		return tlog.Hash{}, fmt.Errorf("sealog: %w", err)
	}
	if size > h.Size {
		return tlog.Hash{}, fmt.Errorf("sealog: tree size %d is beyond the log's %d entries", size, h.Size)
	}
	return tlog.TreeHash(int64(size), l.HashReader(ctx))
}

// CheckpointAt returns the log's signed checkpoint for its first size
// entries, its signature checked. Every committed batch ends with one, so
// size must be the end of a batch; the error for another size names the
// next one. Size 0 means the latest checkpoint (Checkpoint).
func (l *Log) CheckpointAt(ctx context.Context, size uint64) (Checkpoint, error) {
	if size == 0 {
		return l.Checkpoint(ctx)
	}
	h, err := l.st.Head(ctx)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("sealog: %w", err)
	}
	if size == 0 || size > h.Size {
		return Checkpoint{}, fmt.Errorf("sealog: no checkpoint at size %d (the log has %d entries)", size, h.Size)
	}
	end, err := l.st.BatchEnd(ctx, size)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("sealog: no signed checkpoint at size %d: %w", size, err)
	}
	if end != size {
		return Checkpoint{}, fmt.Errorf("sealog: no signed checkpoint at size %d: it is not the end of a batch (the next one is at size %d)", size, end)
	}
	line, err := l.st.ReadLine(ctx, size-1)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("sealog: %w", err)
	}
	ln, err := format.ParseLine(line.Bytes)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("sealog: entry %d: %w: %w", size-1, ErrCorrupt, err)
	}
	if ln.Sig == nil {
		return Checkpoint{}, fmt.Errorf("sealog: entry %d: %w: the store says a batch ends there, but it carries no signature", size-1, ErrCorrupt)
	}
	root, err := l.TreeHash(ctx, size)
	if err != nil {
		return Checkpoint{}, err
	}
	text := checkpoint.Checkpoint{Origin: l.origin, Size: size, Root: root}.Text()
	if !checkpoint.VerifyText(l.verifierFor(size), text, ln.Sig) {
		return Checkpoint{}, fmt.Errorf("sealog: entry %d: %w: its batch signature does not verify", size-1, ErrCorrupt)
	}
	return Checkpoint{Origin: l.origin, Size: size, Root: root, Note: checkpoint.Assemble(text, l.origin, ln.Sig)}, nil
}
