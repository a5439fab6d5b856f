package sqlite

import (
	"context"
	"fmt"
	"math"
)

// DumpLines calls fn with the line of every row of the entries table, in
// seq order, whatever the head row says: the untrusted bytes that a
// verifier reads (a deleted, inserted or renumbered row is for it to
// find; ReadLines would refuse the log instead). It reads
// Options.PageSize rows per query and calls fn with no connection held.
// The line is valid only during fn.
func (s *Store) DumpLines(ctx context.Context, fn func(line []byte) error) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	// The first page is the first rows in seq order, every later one
	// starts after the last seq read: a range on the primary key, so each
	// page costs its own rows, never a scan of those before it (an OR
	// with a parameter, "seq > ? OR ?", made SQLite scan them).
	after := int64(math.MinInt64)
	first := true
	var lines [][]byte
	for {
		lines = lines[:0]
		q, args := `SELECT seq, line FROM entries WHERE seq > ? ORDER BY seq LIMIT ?`, []any{after, s.pageSize}
		if first {
			q, args = `SELECT seq, line FROM entries ORDER BY seq LIMIT ?`, []any{s.pageSize}
		}
		rs, err := s.r.QueryContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("sqlite: reading the stored lines: %w", err)
		}
		for rs.Next() {
			var line []byte
			if err := rs.Scan(&after, &line); err != nil {
				rs.Close()
				return fmt.Errorf("sqlite: reading the stored lines: %w", err)
			}
			lines = append(lines, line)
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return fmt.Errorf("sqlite: reading the stored lines: %w", err)
		}
		for _, line := range lines {
			if err := s.check(ctx); err != nil {
				return err
			}
			if err := fn(line); err != nil {
				return err
			}
		}
		if len(lines) < s.pageSize {
			return nil
		}
		first = false
	}
}
