package sealog

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/internal/commit"
	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/tree"
)

// PruneKind is the kind of the event that records a prune (Log.Prune).
const PruneKind = format.PruneKind

// ErrPruned is returned (wrapped) for reads of entries that a prune
// deleted.
var ErrPruned = store.ErrPruned

// PruneResult says what Log.Prune did.
type PruneResult struct {
	// Below: entries 0 … Below-1 are deleted.
	Below uint64
	// Record is the receipt of the prune record, the entry that allows
	// it (zero if the log was pruned there already).
	Record Receipt
}

// Prune deletes the contents of the entries below seq below — the
// segments that hold them — for retention rules that require old audit
// data to go, and keeps what verification needs: the chain link and the
// tree hashes at the prune point, and a prune record in the log. The
// remaining entries still verify from the log's key, their inclusion
// proofs still work, and verifiers report which entries were pruned, when
// and by which record (docs/FORMAT.md §13).
//
// Entries go by whole sealed segments: the prune point is the largest
// segment start at or below below (PruneResult.Below); an error if there
// is none (a SQL store cuts at any batch end). A rotated log may be
// pruned past its rotation records: the prune state keeps each one pruned,
// with the tree hashes that prove it part of the log, so that verifiers
// still follow the chain of keys from the log's first key. The log must be
// over a store that can prune (store.Pruner).
func (l *Log) Prune(ctx context.Context, below uint64) (PruneResult, error) {
	if l.eng == nil {
		return PruneResult{}, ErrReadOnly
	}
	pr, ok := l.st.(store.Pruner)
	if !ok {
		return PruneResult{}, fmt.Errorf("sealog: %s: the store cannot prune (it does not implement store.Pruner)", l.name)
	}
	p, err := pr.PrunePoint(ctx, below)
	if err != nil {
		return PruneResult{}, fmt.Errorf("sealog: %w", err)
	}
	cur, err := pr.Pruned(ctx)
	if err != nil {
		return PruneResult{}, fmt.Errorf("sealog: %w", err)
	}
	if cur != nil && p <= cur.Below {
		return PruneResult{Below: cur.Below}, nil
	}
	if p == 0 {
		return PruneResult{}, fmt.Errorf("sealog: nothing to prune below entry %d: entries go by whole sealed segments, and none ends at or before it", below)
	}
	st, err := l.pruneState(ctx, p)
	if err != nil {
		return PruneResult{}, err
	}
	if st.Rotations, err = l.keptRotations(ctx, p, st.root, cur); err != nil {
		return PruneResult{}, err
	}
	prep := make([]commit.Event, 1)
	if err := l.prepareEncoded(format.AppendPruneEvent(nil, format.Prune{Below: p, Leaf: st.Leaf, Root: st.root, Rotations: uint64(len(st.Rotations))}), &prep[0]); err != nil {
		return PruneResult{}, err
	}
	pend, err := l.submitPrepared(ctx, prep, nil)
	if err != nil {
		return PruneResult{}, err
	}
	rs, err := pend.Wait(ctx)
	if err != nil {
		return PruneResult{}, fmt.Errorf("sealog: recording the prune: %w", err)
	}
	st.Record = rs[0].Seq
	if err := pr.Prune(ctx, st.PruneState); err != nil {
		return PruneResult{}, fmt.Errorf("sealog: pruning below %d (recorded at entry %d; pruning again finishes it): %w", p, st.Record, err)
	}
	return PruneResult{Below: p, Record: rs[0]}, nil
}

// PruneBefore prunes the entries whose time is before t (Prune's rules:
// by whole sealed segments, so some of them may stay).
func (l *Log) PruneBefore(ctx context.Context, t time.Time) (PruneResult, error) {
	below, err := l.firstAtOrAfter(ctx, t.UnixNano())
	if err != nil {
		return PruneResult{}, err
	}
	return l.Prune(ctx, below)
}

// firstAtOrAfter returns the seq of the first entry whose time is at or
// after ns (the log's size if none): times never decrease, so a binary
// search over the entries still held.
func (l *Log) firstAtOrAfter(ctx context.Context, ns int64) (uint64, error) {
	h, err := l.st.Head(ctx)
	if err != nil {
		return 0, fmt.Errorf("sealog: %w", err)
	}
	lo, hi := uint64(0), h.Size
	if pr, ok := l.st.(store.Pruner); ok {
		if cur, err := pr.Pruned(ctx); err == nil && cur != nil {
			lo = cur.Below
		}
	}
	var ferr error
	for lo < hi {
		mid := lo + (hi-lo)/2
		line, err := l.st.ReadLine(ctx, mid)
		if err != nil {
			ferr = err
			break
		}
		ln, err := format.ParseLine(line.Bytes)
		if err != nil {
			return 0, fmt.Errorf("sealog: entry %d: %w: %w", mid, ErrCorrupt, err)
		}
		if ln.Time >= ns {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	if ferr != nil {
		return 0, fmt.Errorf("sealog: %w", ferr)
	}
	return lo, nil
}

type pruneState struct {
	store.PruneState
	root tlog.Hash
}

// pruneState reads what the log keeps at prune point p, and checks it
// against the log's signed checkpoint at p and entry p-1 itself, so that
// no stored hash that was damaged is made the base of what remains.
func (l *Log) pruneState(ctx context.Context, p uint64) (pruneState, error) {
	var st pruneState
	ck, err := l.CheckpointAt(ctx, p) // checks its signature and its root against the stored hashes
	if err != nil {
		return st, err
	}
	edge, err := tree.Load(p, store.HashReader(ctx, l.st))
	if err != nil {
		return st, fmt.Errorf("sealog: the tree at %d: %w", p, err)
	}
	if edge.Root() != ck.Root {
		return st, fmt.Errorf("sealog: %w: the stored tree hashes at %d do not give the signed root", ErrCorrupt, p)
	}
	line, err := l.st.ReadLine(ctx, p-1)
	if err != nil {
		return st, fmt.Errorf("sealog: %w", err)
	}
	ln, err := format.ParseLine(line.Bytes)
	if err != nil {
		return st, fmt.Errorf("sealog: entry %d: %w: %w", p-1, ErrCorrupt, err)
	}
	if hd := ln.Header(); hd.LeafHash() != line.Leaf {
		return st, fmt.Errorf("sealog: entry %d: %w: its line does not give its stored leaf hash", p-1, ErrCorrupt)
	}
	st.Below, st.Leaf, st.Time, st.Edge, st.root = p, line.Leaf, ln.Time, edge.Hashes(), ck.Root
	return st, nil
}

// FirstSeq returns the seq of the first entry the log still holds: its
// prune point (Prune), or 0 for a log never pruned. Reads below it fail
// with ErrPruned.
func (l *Log) FirstSeq(ctx context.Context) (uint64, error) {
	pr, ok := l.st.(store.Pruner)
	if !ok {
		return 0, nil
	}
	cur, err := pr.Pruned(ctx)
	if err != nil || cur == nil {
		return 0, err
	}
	return cur.Below, nil
}

// keptRotations returns the rotation records below prune point p, each
// with the edge of the tree before it and a consistency proof to the tree
// at p (docs/FORMAT.md §13.2). Records an earlier prune deleted come from
// its state cur; the others are read from the store. Each is checked as
// a verifier will check it.
func (l *Log) keptRotations(ctx context.Context, p uint64, root tlog.Hash, cur *store.PruneState) ([]format.KeptRotation, error) {
	var out []format.KeptRotation
	hr := store.HashReader(ctx, l.st)
	for _, e := range l.Keys()[1:] {
		if e.Rotation >= p {
			break
		}
		var line []byte
		if cur != nil && e.Rotation < cur.Below {
			for _, k := range cur.Rotations {
				if ln, err := format.ParseLine(k.Line); err == nil && ln.Seq == e.Rotation {
					line = k.Line
				}
			}
			if line == nil {
				return nil, fmt.Errorf("sealog: %w: the rotation record at entry %d was pruned, but the prune state does not keep it", ErrCorrupt, e.Rotation)
			}
		} else {
			sl, err := l.st.ReadLine(ctx, e.Rotation)
			if err != nil {
				return nil, fmt.Errorf("sealog: %w", err)
			}
			line = sl.Bytes
		}
		edge, err := tree.Load(e.Rotation, hr)
		if err != nil {
			return nil, fmt.Errorf("sealog: the tree at %d: %w", e.Rotation, err)
		}
		k := format.KeptRotation{Line: append([]byte(nil), line...), Edge: edge.Hashes()}
		if e.Rotation+1 < p {
			if k.Proof, err = tlog.ProveTree(int64(p), int64(e.Rotation+1), hr); err != nil {
				return nil, fmt.Errorf("sealog: a consistency proof from %d to %d: %w", e.Rotation+1, p, err)
			}
		}
		kc, err := k.Check(p, root)
		if err != nil {
			return nil, fmt.Errorf("sealog: %w: the rotation record at entry %d: %v", ErrCorrupt, e.Rotation, err)
		}
		if kc.Rotation.Key != e.VerifierKey {
			return nil, fmt.Errorf("sealog: %w: entry %d does not name the key the log rotated to there", ErrCorrupt, e.Rotation)
		}
		out = append(out, k)
	}
	return out, nil
}
