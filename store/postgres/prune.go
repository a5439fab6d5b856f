package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/sealog/sealog/internal/sqlrows"
	"github.com/sealog/sealog/store"
)

var _ store.Pruner = (*Store)(nil)

// PrunePoint returns below itself when a committed batch ends there (a
// database has no segments, so the log is cut at any batch end: the
// prune point is then the first entry of a batch, whose signature the
// entries kept still carry whole), else the largest batch end under it;
// never less than the current prune point.
func (s *Store) PrunePoint(ctx context.Context, below uint64) (uint64, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	cur, err := s.Pruned(ctx)
	if err != nil {
		return 0, err
	}
	var p int64
	err = s.pool.QueryRow(ctx, s.q.batchBelow, int64(min(below, 1<<62))).Scan(&p)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("postgres: finding a batch end at or below %d: %w", below, err)
	}
	if cur != nil && cur.Below > uint64(p) {
		return cur.Below, nil
	}
	return uint64(p), nil
}

// Pruned returns the prune state of the pruned table (nil: never
// pruned). A state row that is not a pruned.json, or whose below is not
// its own, wraps store.ErrCorrupt.
func (s *Store) Pruned(ctx context.Context) (*store.PruneState, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	var (
		below int64
		state []byte
	)
	err := s.pool.QueryRow(ctx, s.q.selectPruned).Scan(&below, &state)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: reading the prune state: %w", err)
	}
	p, err := sqlrows.PruneState(below, state)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return p, nil
}

// Prune, in one transaction that holds the head row's lock: checks st
// against the head and the current prune point, copies the tree hashes
// of the entries below st.Below into pruned_hashes, deletes those entries
// and writes the prune state. A crash leaves the log as it was or pruned
// whole.
func (s *Store) Prune(ctx context.Context, st store.PruneState) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if s.readOnly {
		return fmt.Errorf("postgres: %w", store.ErrReadOnly)
	}
	state, err := sqlrows.PruneRow(st)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	defer s.afterAppend() // a turn taken here leaves the lease held
	t := s.takeTurn()
	if t == nil {
		tx, err := s.pool.Begin(ctx)
		if err != nil {
			return fmt.Errorf("postgres: pruning: %w", err)
		}
		t = &turn{tx: tx}
		if t.head, err = scanHead(tx.QueryRow(ctx, s.q.lockHead)); err != nil {
			t.rollback()
			return fmt.Errorf("postgres: pruning: locking the head row: %w", err)
		}
	}
	defer t.rollback() // after Commit, a no-op
	var cur int64
	if err := t.tx.QueryRow(ctx, s.q.lockPruned).Scan(&cur); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("postgres: pruning: %w", err)
	}
	var ends bool
	if err := t.tx.QueryRow(ctx, s.q.batchEnds, int64(st.Below)).Scan(&ends); err != nil {
		return fmt.Errorf("postgres: pruning: %w", err)
	}
	if err := sqlrows.CheckPrune(st, t.head.Size, uint64(cur), ends); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	for _, q := range []string{s.q.keepHashes, s.q.deletePruned} {
		if _, err := t.tx.Exec(ctx, q, int64(st.Below)); err != nil {
			return fmt.Errorf("postgres: pruning below %d: %w", st.Below, err)
		}
	}
	if _, err := t.tx.Exec(ctx, s.q.writePruned, int64(st.Below), state); err != nil {
		return fmt.Errorf("postgres: pruning below %d: %w", st.Below, err)
	}
	if err := t.tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: pruning below %d: %w", st.Below, err)
	}
	return nil
}

// prunedError returns an error wrapping store.ErrPruned if entry seq lies
// below the prune point, else nil.
func (s *Store) prunedError(ctx context.Context, seq uint64) error {
	p, err := s.Pruned(ctx)
	if err != nil {
		return nil
	}
	return sqlrows.PrunedError("postgres", p, seq)
}
