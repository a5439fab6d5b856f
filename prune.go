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
// is none. A rotated log keeps its first rotation record (docs/KEYS.md):
// the prune point is at most that record's seq. The log must be over a
// store that can prune (the file store).
func (l *Log) Prune(ctx context.Context, below uint64) (PruneResult, error) {
	if l.eng == nil {
		return PruneResult{}, ErrReadOnly
	}
	pr, ok := l.st.(store.Pruner)
	if !ok {
		return PruneResult{}, fmt.Errorf("sealog: %s: the store cannot prune (it does not implement store.Pruner)", l.name)
	}
	if es := l.Keys(); len(es) > 1 && below > es[1].Rotation {
		// The rotation records are the chain of keys from the log's
		// first key (sealog.json) to its current one: every verifier,
		// and this Log at open, follows it from the first, so the first
		// rotation record must stay.
		below = es[1].Rotation
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
	prep := make([]commit.Event, 1)
	if err := l.prepareEncoded(format.AppendPruneEvent(nil, format.Prune{Below: p, Leaf: st.Leaf, Root: st.root}), &prep[0]); err != nil {
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
