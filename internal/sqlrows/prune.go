package sqlrows

import (
	"fmt"

	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/store"
)

// PruneRow returns the state column of the pruned table for st: the
// exact form of a directory's pruned.json (docs/FORMAT.md §13.2), which
// export-dir writes as it is. A state its own parser refuses is an error.
func PruneRow(st store.PruneState) ([]byte, error) {
	state := (&layout.Pruned{Below: st.Below, Leaf: st.Leaf, Time: st.Time, Edge: st.Edge, Record: st.Record, Rotations: st.Rotations}).Marshal()
	if _, err := layout.ParsePruned(state); err != nil {
		return nil, fmt.Errorf("prune state: %w", err)
	}
	return state, nil
}

// PruneState returns the prune state a pruned row holds (below, state).
// A state that is not a pruned.json, or whose below is not the row's, is
// an error wrapping store.ErrCorrupt.
func PruneState(below int64, state []byte) (*store.PruneState, error) {
	p, err := layout.ParsePruned(state)
	if err != nil || p.Below != uint64(below) {
		return nil, fmt.Errorf("the prune state row: %w (%v)", store.ErrCorrupt, err)
	}
	return &store.PruneState{Below: p.Below, Leaf: p.Leaf, Time: p.Time, Edge: p.Edge, Record: p.Record, Rotations: p.Rotations}, nil
}

// CheckPrune refuses to prune st from a log of size entries pruned below
// cur already (0: never), where ends says whether a committed batch ends
// at st.Below.
func CheckPrune(st store.PruneState, size, cur uint64, ends bool) error {
	switch {
	case st.Below == 0 || st.Record < st.Below || st.Record >= size:
		return fmt.Errorf("prune below %d with the record at %d: the log has %d entries (the record must be committed, after the prune point)", st.Below, st.Record, size)
	case cur >= st.Below:
		return fmt.Errorf("the log is pruned below %d already", cur)
	case !ends:
		return fmt.Errorf("no batch ends at %d: a log is pruned at a batch end (see PrunePoint)", st.Below)
	}
	return nil
}

// PrunedError returns an error wrapping store.ErrPruned if entry seq
// lies below the prune point p (nil: never pruned), else nil.
func PrunedError(backend string, p *store.PruneState, seq uint64) error {
	if p == nil || seq >= p.Below {
		return nil
	}
	return fmt.Errorf("%s: entry %d: %w (the log was pruned below %d)", backend, seq, store.ErrPruned, p.Below)
}
