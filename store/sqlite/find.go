package sqlite

import (
	"context"
	"fmt"

	"github.com/sealog/sealog/internal/sqlfind"
	"github.com/sealog/sealog/store"
)

var _ store.Finder = (*Store)(nil)

// Find calls fn with the seq of each committed entry that matches q, by
// the indexes on the query columns (kind, actor, resource with time, and
// time), in pages. What it finds is untrusted (see store.Finder).
func (s *Store) Find(ctx context.Context, q store.Query, fn func(seq uint64) error) error {
	h, err := s.Head(ctx)
	if err != nil {
		return err
	}
	if q.From >= h.Size {
		return nil
	}
	first, next, args := sqlfind.Statements("entries", q, h.Size, func(int) string { return "?" })
	var rows [][2]int64
	return sqlfind.Run(q.Limit, func(more bool, lastT, lastSeq int64) ([][2]int64, error) {
		stmt, a := first, args
		if more {
			stmt, a = next, append(args[:len(args):len(args)], lastT, lastSeq)
		}
		rs, err := s.r.QueryContext(ctx, stmt, a...)
		if err != nil {
			return nil, fmt.Errorf("sqlite: finding entries: %w", err)
		}
		defer rs.Close()
		rows = rows[:0]
		for rs.Next() {
			var r [2]int64
			if err := rs.Scan(&r[0], &r[1]); err != nil {
				return nil, fmt.Errorf("sqlite: finding entries: %w", err)
			}
			rows = append(rows, r)
		}
		if err := rs.Err(); err != nil {
			return nil, fmt.Errorf("sqlite: finding entries: %w", err)
		}
		return rows, nil
	}, fn)
}
