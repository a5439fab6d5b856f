package store

import (
	"context"
	"errors"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/format"
)

// ErrPruned is returned (wrapped) for a read of an entry that a prune
// deleted (docs/FORMAT.md §13).
var ErrPruned = errors.New("entry pruned: its segment was deleted")

// PruneState is what a pruned log keeps of its deleted entries 0 …
// Below-1: the chain link (Leaf, Time: entry Below-1's leaf hash and time)
// and the right edge of their tree (Edge, largest subtree first), which
// the entries that remain build on; Record, the seq of the prune record
// that allows it; and Rotations, the rotation records among the deleted
// entries with what proves them part of the tree (format.KeptRotation),
// so that the chain of keys can still be followed.
type PruneState struct {
	Below     uint64
	Leaf      tlog.Hash
	Time      int64
	Edge      []tlog.Hash
	Record    uint64
	Rotations []format.KeptRotation
}

// Pruner is implemented by a store that can delete old entries' contents
// while keeping what verification needs (docs/FORMAT.md §13): the file
// store and the SQL stores. The Log appends the prune record first, then calls Prune.
type Pruner interface {
	// PrunePoint returns the largest seq P <= below at which entries can
	// be cut (for the file store: where a sealed segment starts), or 0
	// when there is none. A log already pruned at P or beyond returns its
	// current prune point.
	PrunePoint(ctx context.Context, below uint64) (uint64, error)
	// Pruned returns the store's prune point (nil: never pruned).
	Pruned(ctx context.Context) (*PruneState, error)
	// Prune records st durably and then deletes entries 0 … st.Below-1.
	// st.Below must be a prune point above the current one and the prune
	// record must be committed. A crash in between leaves a log that
	// verifies; the next Prune or open finishes the deletion.
	Prune(ctx context.Context, st PruneState) error
}
