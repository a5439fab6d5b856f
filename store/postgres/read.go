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
		h    store.Head
		size int64
		leaf []byte
	)
	if err := row.Scan(&size, &leaf, &h.LastTime, &h.Checkpoint); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return h, fmt.Errorf("no head row: %w", store.ErrCorrupt)
		}
		return h, err
	}
	h.Size = uint64(size)
	switch {
	case size < 0:
		return store.Head{}, fmt.Errorf("the head row has size %d: %w", size, store.ErrCorrupt)
	case size == 0 && (leaf != nil || h.Checkpoint != nil || h.LastTime != 0):
		return store.Head{}, fmt.Errorf("the head row of an empty log holds a leaf, a time or a checkpoint: %w", store.ErrCorrupt)
	case size > 0 && (len(leaf) != tlog.HashSize || len(h.Checkpoint) == 0):
		return store.Head{}, fmt.Errorf("the head row of size %d has a leaf of %d bytes and a checkpoint of %d: %w", size, len(leaf), len(h.Checkpoint), store.ErrCorrupt)
	}
	copy(h.LastLeaf[:], leaf)
	return h, nil
}

// ReadLine returns committed entry seq.
func (s *Store) ReadLine(ctx context.Context, seq uint64) (store.Line, error) {
	if err := s.check(ctx); err != nil {
		return store.Line{}, err
	}
	if seq > sqlrows.MaxSeq {
		return store.Line{}, fmt.Errorf("postgres: entry %d: %w", seq, store.ErrNotFound)
	}
	l := store.Line{Seq: seq}
	var leaf []byte
	err := s.pool.QueryRow(ctx, s.q.readLine, int64(seq)).Scan(&leaf, &l.Bytes)
	if errors.Is(err, pgx.ErrNoRows) {
		if perr := s.prunedError(ctx, seq); perr != nil {
			return store.Line{}, perr
		}
		return store.Line{}, fmt.Errorf("postgres: entry %d: %w", seq, store.ErrNotFound)
	}
	if err == nil {
		err = setLeaf(&l, leaf)
	}
	if err != nil {
		return store.Line{}, fmt.Errorf("postgres: reading entry %d: %w", seq, err)
	}
	return l, nil
}

// setLeaf sets l.Leaf to leaf, which must be a hash.
func setLeaf(l *store.Line, leaf []byte) error {
	if copy(l.Leaf[:], leaf) != tlog.HashSize || len(leaf) != tlog.HashSize {
		return fmt.Errorf("entry %d has a leaf of %d bytes: %w", l.Seq, len(leaf), store.ErrCorrupt)
	}
	return nil
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
	for from < to {
		page, err = s.readPage(ctx, from, to, page[:0])
		if err != nil {
			return err
		}
		for _, l := range page {
			if l.Seq != from {
				return fmt.Errorf("postgres: entry %d is missing below the head of %d: %w", from, h.Size, store.ErrCorrupt)
			}
			if err := s.check(ctx); err != nil {
				return err
			}
			if err := fn(l); err != nil {
				return err
			}
			from++
		}
		if len(page) == 0 {
			return fmt.Errorf("postgres: entry %d is missing below the head of %d: %w", from, h.Size, store.ErrCorrupt)
		}
	}
	return nil
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
			seq  int64
			leaf []byte
			line []byte
		)
		if err := rs.Scan(&seq, &leaf, &line); err != nil {
			return nil, fmt.Errorf("postgres: reading entries from %d: %w", from, err)
		}
		l := store.Line{Seq: uint64(seq), Bytes: line}
		if err := setLeaf(&l, leaf); err != nil {
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
	seqs := make([]int64, 0, len(indexes))
	for _, idx := range indexes {
		seq, _, ok := sqlrows.HashEntry(idx)
		if !ok {
			return nil, fmt.Errorf("postgres: hash %d is outside every tree: %w", idx, store.ErrNotFound)
		}
		seqs = append(seqs, int64(seq))
	}
	type stored struct{ leaf, nodes []byte }
	found := make(map[uint64]stored, len(seqs))
	rs, err := q.Query(ctx, s.q.readHashes, seqs)
	if err != nil {
		return nil, fmt.Errorf("postgres: reading hashes: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var (
			seq int64
			st  stored
		)
		if err := rs.Scan(&seq, &st.leaf, &st.nodes); err != nil {
			return nil, fmt.Errorf("postgres: reading hashes: %w", err)
		}
		found[uint64(seq)] = st
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("postgres: reading hashes: %w", err)
	}
	out := make([]tlog.Hash, len(indexes))
	for i, idx := range indexes {
		seq, level, _ := sqlrows.HashEntry(idx)
		st, ok := found[seq]
		if !ok {
			return nil, fmt.Errorf("postgres: hash %d (entry %d) is outside the committed tree: %w", idx, seq, store.ErrNotFound)
		}
		h := st.leaf
		if level > 0 {
			if len(st.nodes) < level*tlog.HashSize {
				return nil, fmt.Errorf("postgres: entry %d stores %d bytes of tree hashes, not hash %d of level %d: %w", seq, len(st.nodes), idx, level, store.ErrCorrupt)
			}
			h = st.nodes[(level-1)*tlog.HashSize : level*tlog.HashSize]
		}
		if copy(out[i][:], h) != tlog.HashSize {
			return nil, fmt.Errorf("postgres: entry %d has a leaf of %d bytes: %w", seq, len(h), store.ErrCorrupt)
		}
	}
	return out, nil
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
