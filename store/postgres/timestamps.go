package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/sealog/sealog/internal/sqlrows"
	"github.com/sealog/sealog/store"
)

var _ store.Timestamps = (*Store)(nil)

// putTimestamp inserts a timestamp row in one statement, if its size is
// within the committed head and no row holds it, and returns the head's
// size and whether it inserted. The head is read without a lock: a
// concurrent Append (or this Store's turn) can only move it forward.
const putTimestamp = `
WITH h AS (
	SELECT size FROM {head}
), ins AS (
	INSERT INTO {timestamps} (size, tsr) SELECT $1, $2 FROM h WHERE h.size >= $1
	ON CONFLICT (size) DO NOTHING
	RETURNING size
)
SELECT h.size, (SELECT count(*) FROM ins) FROM h`

// PutTimestamp stores tsr in the timestamps table (schema version 3), in
// a transaction that commits durably (synchronous_commit on, the server's
// default). A size past the committed head is refused, and a second
// response for a size gets store.ErrTimestampExists.
func (s *Store) PutTimestamp(ctx context.Context, size uint64, tsr []byte) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if s.readOnly {
		return fmt.Errorf("postgres: %w", store.ErrReadOnly)
	}
	q := s.tsQuery(putTimestamp)
	return sqlrows.PutTimestamp("postgres", size, tsr, func(size int64, tsr []byte) (uint64, bool, error) {
		var head, n int64
		if err := s.pool.QueryRow(ctx, q, size, tsr).Scan(&head, &n); err != nil {
			return 0, false, err
		}
		return uint64(max(head, 0)), n == 1, nil
	})
}

// ReadTimestamps reads the timestamps table in ascending size, a page at
// a time (sqlrows.TimestampPage rows).
func (s *Store) ReadTimestamps(ctx context.Context, fn func(size uint64, tsr []byte) error) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	q := s.tsQuery(`SELECT size, tsr FROM {timestamps} WHERE size > $1 ORDER BY size LIMIT $2`)
	return sqlrows.ReadTimestamps(ctx, "postgres", func(after int64) ([]sqlrows.TimestampRow, error) {
		rows, err := s.pool.Query(ctx, q, after, sqlrows.TimestampPage)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, func(r pgx.CollectableRow) (sqlrows.TimestampRow, error) {
			var t sqlrows.TimestampRow
			err := r.Scan(&t.Size, &t.TSR)
			return t, err
		})
	}, fn)
}

// tsQuery names the schema's head and timestamps tables in q.
func (s *Store) tsQuery(q string) string {
	for _, table := range []string{"head", "timestamps"} {
		q = strings.ReplaceAll(q, "{"+table+"}", pgx.Identifier{s.schema, table}.Sanitize())
	}
	return q
}
