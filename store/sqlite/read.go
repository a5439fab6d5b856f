package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/internal/sqlrows"
	"github.com/sealog/sealog/store"
)

const selectHead = `SELECT size, last_leaf, last_time, checkpoint FROM head WHERE id = 1`

// Metadata returns the log's identity, read when the store was opened.
func (s *Store) Metadata(ctx context.Context) (store.Metadata, error) {
	if err := s.check(ctx); err != nil {
		return store.Metadata{}, err
	}
	return s.meta, nil
}

// Head reads the head row: the committed state as of now.
func (s *Store) Head(ctx context.Context) (store.Head, error) {
	if err := s.check(ctx); err != nil {
		return store.Head{}, err
	}
	h, err := scanHead(s.r.QueryRowContext(ctx, selectHead))
	if err != nil {
		return store.Head{}, fmt.Errorf("sqlite: reading the head: %w", err)
	}
	return h, nil
}

// scanHead scans a head row.
func scanHead(row *sql.Row) (store.Head, error) {
	var (
		size, lastTime   int64
		leaf, checkpoint []byte
	)
	if err := row.Scan(&size, &leaf, &lastTime, &checkpoint); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return store.Head{}, fmt.Errorf("no head row: %w", store.ErrCorrupt)
		}
		return store.Head{}, err
	}
	return sqlrows.Head(size, leaf, lastTime, checkpoint)
}

// ReadLine returns committed entry seq.
func (s *Store) ReadLine(ctx context.Context, seq uint64) (store.Line, error) {
	if err := s.check(ctx); err != nil {
		return store.Line{}, err
	}
	if seq > sqlrows.MaxSeq {
		return store.Line{}, fmt.Errorf("sqlite: entry %d: %w", seq, store.ErrNotFound)
	}
	var leaf, line []byte
	err := s.r.QueryRowContext(ctx, `SELECT leaf, line FROM entries WHERE seq = ?`, int64(seq)).Scan(&leaf, &line)
	if errors.Is(err, sql.ErrNoRows) {
		if perr := s.prunedError(ctx, seq); perr != nil {
			return store.Line{}, perr
		}
		return store.Line{}, fmt.Errorf("sqlite: entry %d: %w", seq, store.ErrNotFound)
	}
	var l store.Line
	if err == nil {
		l, err = sqlrows.Line(int64(seq), leaf, line)
	}
	if err != nil {
		return store.Line{}, fmt.Errorf("sqlite: reading entry %d: %w", seq, err)
	}
	return l, nil
}

// ReadLines calls fn with each committed entry from seq from to
// min(to, size)-1, where size is the committed size when it is called. It
// fetches Options.PageSize entries per query, and calls fn with no
// connection held, so fn may call the store. Line.Bytes is valid only
// during fn.
func (s *Store) ReadLines(ctx context.Context, from, to uint64, fn func(store.Line) error) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if from >= to {
		return nil
	}
	h, err := s.Head(ctx)
	if err != nil {
		return err
	}
	to = min(to, h.Size)
	if from < to {
		if err := s.prunedError(ctx, from); err != nil {
			return err
		}
	}
	page := make([]store.Line, 0, s.pageSize)
	return sqlrows.Lines("sqlite", from, to, h.Size, func(from uint64) ([]store.Line, error) {
		var err error
		page, err = s.readPage(ctx, from, to, page[:0])
		return page, err
	}, func(l store.Line) error {
		if err := s.check(ctx); err != nil {
			return err
		}
		return fn(l)
	})
}

// readPage appends to page the entries in [from, to), at most a page.
func (s *Store) readPage(ctx context.Context, from, to uint64, page []store.Line) ([]store.Line, error) {
	rs, err := s.r.QueryContext(ctx, `SELECT seq, leaf, line FROM entries WHERE seq >= ? AND seq < ? ORDER BY seq LIMIT ?`,
		int64(from), int64(min(to, math.MaxInt64)), s.pageSize)
	if err != nil {
		return nil, fmt.Errorf("sqlite: reading entries from %d: %w", from, err)
	}
	defer rs.Close()
	for rs.Next() {
		var (
			seq        int64
			leaf, line []byte
		)
		if err := rs.Scan(&seq, &leaf, &line); err != nil {
			return nil, fmt.Errorf("sqlite: reading entries from %d: %w", from, err)
		}
		l, err := sqlrows.Line(seq, leaf, line)
		if err != nil {
			return nil, fmt.Errorf("sqlite: %w", err)
		}
		page = append(page, l)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: reading entries from %d: %w", from, err)
	}
	return page, nil
}

// ReadHashes returns the stored hashes at indexes, reading the entries
// that store them in one query. An index outside the committed tree is an
// error wrapping store.ErrNotFound.
func (s *Store) ReadHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	if len(indexes) == 0 {
		return nil, nil
	}
	seqs, err := sqlrows.HashSeqs(indexes)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	args := make([]any, 0, 2*len(seqs))
	for range 2 {
		for _, seq := range seqs {
			args = append(args, seq)
		}
	}
	found := make(map[uint64]sqlrows.Stored, len(seqs))
	// The entries' hashes and, for the entries a prune deleted, those
	// pruned_hashes keeps.
	in := `(?` + strings.Repeat(",?", len(seqs)-1) + `)`
	q := `SELECT seq, leaf, nodes FROM entries WHERE seq IN ` + in + ` UNION ALL SELECT seq, leaf, nodes FROM pruned_hashes WHERE seq IN ` + in
	rs, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: reading hashes: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var (
			seq int64
			st  sqlrows.Stored
		)
		if err := rs.Scan(&seq, &st.Leaf, &st.Nodes); err != nil {
			return nil, fmt.Errorf("sqlite: reading hashes: %w", err)
		}
		found[uint64(seq)] = st
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: reading hashes: %w", err)
	}
	hs, err := sqlrows.Hashes(indexes, found)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	return hs, nil
}

// BatchEnd returns the smallest size >= size at which a committed batch
// ends: one lookup in the batches table's primary key.
func (s *Store) BatchEnd(ctx context.Context, size uint64) (uint64, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	if size > math.MaxInt64 {
		return 0, fmt.Errorf("sqlite: no batch ends at or after size %d: %w", size, store.ErrNotFound)
	}
	var end int64
	err := s.r.QueryRowContext(ctx, `SELECT size FROM batches WHERE size >= ? ORDER BY size LIMIT 1`, int64(size)).Scan(&end)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, fmt.Errorf("sqlite: no batch ends at or after size %d: %w", size, store.ErrNotFound)
	case err != nil:
		return 0, fmt.Errorf("sqlite: finding the batch end at or after %d: %w", size, err)
	}
	return uint64(end), nil
}
