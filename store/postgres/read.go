package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/internal/sqlrows"
	"github.com/sealog/sealog/store"
)

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
	if h, ok := s.viewHead(); ok {
		return h, nil
	}
	h, err := s.head(ctx, s.pool)
	if err != nil {
		return store.Head{}, fmt.Errorf("postgres: reading the head: %w", err)
	}
	return h, nil
}

func (s *Store) head(ctx context.Context, q querier) (store.Head, error) {
	return scanHead(q.QueryRow(ctx, s.q.selectHead))
}

// scanHead scans a head row.
func scanHead(row pgx.Row) (store.Head, error) {
	var (
		size, lastTime   int64
		leaf, checkpoint []byte
	)
	if err := row.Scan(&size, &leaf, &lastTime, &checkpoint); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
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
		return store.Line{}, fmt.Errorf("postgres: entry %d: %w", seq, store.ErrNotFound)
	}
	var leaf, line []byte
	err := s.pool.QueryRow(ctx, s.q.readLine, int64(seq)).Scan(&leaf, &line)
	if errors.Is(err, pgx.ErrNoRows) {
		if perr := s.prunedError(ctx, seq); perr != nil {
			return store.Line{}, perr
		}
		return store.Line{}, fmt.Errorf("postgres: entry %d: %w", seq, store.ErrNotFound)
	}
	var l store.Line
	if err == nil {
		l, err = sqlrows.Line(int64(seq), leaf, line)
	}
	if err != nil {
		return store.Line{}, fmt.Errorf("postgres: reading entry %d: %w", seq, err)
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
	h, err := s.head(ctx, s.pool)
	if err != nil {
		return fmt.Errorf("postgres: reading the head: %w", err)
	}
	to = min(to, h.Size)
	if from < to {
		if err := s.prunedError(ctx, from); err != nil {
			return err
		}
	}
	page := make([]store.Line, 0, s.pageSize)
	return sqlrows.Lines("postgres", from, to, h.Size, func(from uint64) ([]store.Line, error) {
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
	rs, err := s.pool.Query(ctx, s.q.readLines, int64(from), int64(min(to, math.MaxInt64)), s.pageSize)
	if err != nil {
		return nil, fmt.Errorf("postgres: reading entries from %d: %w", from, err)
	}
	defer rs.Close()
	for rs.Next() {
		var (
			seq        int64
			leaf, line []byte
		)
		if err := rs.Scan(&seq, &leaf, &line); err != nil {
			return nil, fmt.Errorf("postgres: reading entries from %d: %w", from, err)
		}
		l, err := sqlrows.Line(seq, leaf, line)
		if err != nil {
			return nil, fmt.Errorf("postgres: %w", err)
		}
		page = append(page, l)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("postgres: reading entries from %d: %w", from, err)
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
	if hs, ok := s.viewHashes(indexes); ok {
		return hs, nil
	}
	return s.readHashes(ctx, s.pool, indexes)
}

// readHashes reads the stored hashes at indexes on q.
func (s *Store) readHashes(ctx context.Context, q querier, indexes []int64) ([]tlog.Hash, error) {
	seqs, err := sqlrows.HashSeqs(indexes)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	found := make(map[uint64]sqlrows.Stored, len(seqs))
	rs, err := q.Query(ctx, s.q.readHashes, seqs)
	if err != nil {
		return nil, fmt.Errorf("postgres: reading hashes: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var (
			seq int64
			st  sqlrows.Stored
		)
		if err := rs.Scan(&seq, &st.Leaf, &st.Nodes); err != nil {
			return nil, fmt.Errorf("postgres: reading hashes: %w", err)
		}
		found[uint64(seq)] = st
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("postgres: reading hashes: %w", err)
	}
	hs, err := sqlrows.Hashes(indexes, found)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return hs, nil
}

// BatchEnd returns the smallest size >= size at which a committed batch
// ends: one lookup in the batches table's primary key.
func (s *Store) BatchEnd(ctx context.Context, size uint64) (uint64, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	var end int64
	err := s.pool.QueryRow(ctx, s.q.batchEnd, int64(min(size, math.MaxInt64))).Scan(&end)
	switch {
	case errors.Is(err, pgx.ErrNoRows) || size > math.MaxInt64:
		return 0, fmt.Errorf("postgres: no batch ends at or after size %d: %w", size, store.ErrNotFound)
	case err != nil:
		return 0, fmt.Errorf("postgres: finding the batch end at or after %d: %w", size, err)
	}
	return uint64(end), nil
}
