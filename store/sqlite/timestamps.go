package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/sealog/sealog/internal/sqlrows"
	"github.com/sealog/sealog/store"
)

var _ store.Timestamps = (*Store)(nil)

// PutTimestamp stores tsr in the timestamps table (schema version 2), in
// a write transaction on the writer connection that reads the head and
// inserts the row unless one holds its size; the commit fsyncs the WAL.
// A size past the committed head is refused, and a second response for a
// size gets store.ErrTimestampExists. A turn this Store holds (turn.go)
// is given up first: it holds the only writer connection.
func (s *Store) PutTimestamp(ctx context.Context, size uint64, tsr []byte) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if s.w == nil {
		return fmt.Errorf("sqlite: %w", store.ErrReadOnly)
	}
	if err := s.poisoned.Load(); err != nil {
		return fmt.Errorf("sqlite: %s: %w (after: %v)", s.path, store.ErrPoisoned, *err)
	}
	return sqlrows.PutTimestamp("sqlite", size, tsr, func(size int64, tsr []byte) (uint64, bool, error) {
		s.appendMu.Lock()
		defer s.appendMu.Unlock()
		if t := s.takeTurn(); t != nil {
			t.rollback()
		}
		tx, err := s.w.BeginTx(ctx, nil) // BEGIN IMMEDIATE
		if err != nil {
			return 0, false, err
		}
		defer tx.Rollback() // after Commit, a no-op
		var head int64
		if err := tx.QueryRowContext(ctx, `SELECT size FROM head WHERE id = 1`).Scan(&head); err != nil {
			return 0, false, fmt.Errorf("reading the head: %w", err)
		}
		if size > head {
			return uint64(max(head, 0)), false, nil
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO timestamps (size, tsr, stored) VALUES (?, ?, ?) ON CONFLICT (size) DO NOTHING`,
			size, tsr, time.Now().UTC().Format(time.RFC3339))
		if err != nil {
			return 0, false, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, false, err
		}
		if err := tx.Commit(); err != nil {
			if isIOError(err) {
				s.poisoned.CompareAndSwap(nil, &err)
			}
			return 0, false, fmt.Errorf("committing: %w", err)
		}
		s.ckpt.commits.Add(1)
		return uint64(head), n == 1, nil
	})
}

// ReadTimestamps reads the timestamps table in ascending size, a page at
// a time (sqlrows.TimestampPage rows), on the reader connections.
func (s *Store) ReadTimestamps(ctx context.Context, fn func(size uint64, tsr []byte) error) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	return sqlrows.ReadTimestamps(ctx, "sqlite", func(after int64) ([]sqlrows.TimestampRow, error) {
		rows, err := s.r.QueryContext(ctx, `SELECT size, tsr FROM timestamps WHERE size > ? ORDER BY size LIMIT ?`, after, sqlrows.TimestampPage)
		if err != nil {
			return nil, err
		}
		return scanTimestamps(rows)
	}, fn)
}

func scanTimestamps(rows *sql.Rows) ([]sqlrows.TimestampRow, error) {
	defer rows.Close()
	var out []sqlrows.TimestampRow
	for rows.Next() {
		var t sqlrows.TimestampRow
		if err := rows.Scan(&t.Size, &t.TSR); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
