package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/sealog/sealog/internal/sqlrows"
	"github.com/sealog/sealog/store"
)

var _ store.Pruner = (*Store)(nil)

// PrunePoint returns the largest committed batch end at or below below (a
// database has no segments: the log is cut at a batch end, so every
// batch kept stays whole with its signature), never less than the
// current prune point; 0 when there is none.
func (s *Store) PrunePoint(ctx context.Context, below uint64) (uint64, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	cur, err := s.Pruned(ctx)
	if err != nil {
		return 0, err
	}
	var p int64
	err = s.r.QueryRowContext(ctx, `SELECT size FROM batches WHERE size <= ? ORDER BY size DESC LIMIT 1`, int64(min(below, 1<<62))).Scan(&p)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("sqlite: finding a batch end at or below %d: %w", below, err)
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
	err := s.r.QueryRowContext(ctx, `SELECT below, state FROM pruned`).Scan(&below, &state)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: reading the prune state: %w", err)
	}
	p, err := sqlrows.PruneState(below, state)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	return p, nil
}

// Prune, in one write transaction: checks st against the head and the
// current prune point, copies the tree hashes of the entries below
// st.Below into pruned_hashes, deletes those entries and writes the prune
// state. A crash leaves the log as it was or pruned whole.
func (s *Store) Prune(ctx context.Context, st store.PruneState) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if s.w == nil {
		return fmt.Errorf("sqlite: %w", store.ErrReadOnly)
	}
	state, err := sqlrows.PruneRow(st)
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	t := s.takeTurn()
	if t == nil {
		var err error
		if t, err = s.begin(ctx); err != nil {
			return fmt.Errorf("sqlite: pruning: %w", err)
		}
	}
	defer t.rollback() // after Commit, a no-op
	var cur int64
	if err := t.tx.QueryRowContext(ctx, `SELECT below FROM pruned`).Scan(&cur); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlite: pruning: %w", err)
	}
	var ends bool
	if err := t.tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM batches WHERE size = ?)`, int64(st.Below)).Scan(&ends); err != nil {
		return fmt.Errorf("sqlite: pruning: %w", err)
	}
	if err := sqlrows.CheckPrune(st, t.head.Size, uint64(cur), ends); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	for _, q := range []string{
		`INSERT OR IGNORE INTO pruned_hashes (seq, leaf, nodes) SELECT seq, leaf, nodes FROM entries WHERE seq < ?`,
		`DELETE FROM entries WHERE seq < ?`,
	} {
		if _, err := t.tx.ExecContext(ctx, q, int64(st.Below)); err != nil {
			return fmt.Errorf("sqlite: pruning below %d: %w", st.Below, err)
		}
	}
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO pruned (id, below, state) VALUES (1, ?, ?)
ON CONFLICT (id) DO UPDATE SET below = excluded.below, state = excluded.state`, int64(st.Below), state); err != nil {
		return fmt.Errorf("sqlite: pruning below %d: %w", st.Below, err)
	}
	if err := t.tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: pruning below %d: %w", st.Below, err)
	}
	s.ckpt.commits.Add(1)
	return nil
}

// prunedError returns an error wrapping store.ErrPruned if entry seq lies
// below the prune point, else nil.
func (s *Store) prunedError(ctx context.Context, seq uint64) error {
	p, err := s.Pruned(ctx)
	if err != nil {
		return nil
	}
	return sqlrows.PrunedError("sqlite", p, seq)
}
