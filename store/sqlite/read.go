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
		h    store.Head
		size int64
		leaf []byte
	)
	if err := row.Scan(&size, &leaf, &h.LastTime, &h.Checkpoint); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
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
		return store.Line{}, fmt.Errorf("sqlite: entry %d: %w", seq, store.ErrNotFound)
	}
	l := store.Line{Seq: seq}
	var leaf []byte
	err := s.r.QueryRowContext(ctx, `SELECT leaf, line FROM entries WHERE seq = ?`, int64(seq)).Scan(&leaf, &l.Bytes)
	if errors.Is(err, sql.ErrNoRows) {
		if perr := s.prunedError(ctx, seq); perr != nil {
			return store.Line{}, perr
		}
		return store.Line{}, fmt.Errorf("sqlite: entry %d: %w", seq, store.ErrNotFound)
	}
	if err == nil {
		err = setLeaf(&l, leaf)
	}
	if err != nil {
		return store.Line{}, fmt.Errorf("sqlite: reading entry %d: %w", seq, err)
	}
	return l, nil
}

// setLeaf sets l.Leaf to leaf, which must be a hash.
func setLeaf(l *store.Line, leaf []byte) error {
	if len(leaf) != tlog.HashSize {
		return fmt.Errorf("entry %d has a leaf of %d bytes: %w", l.Seq, len(leaf), store.ErrCorrupt)
	}
	copy(l.Leaf[:], leaf)
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
	for from < to {
		if page, err = s.readPage(ctx, from, to, page[:0]); err != nil {
			return err
		}
		if len(page) == 0 {
			return fmt.Errorf("sqlite: entry %d is missing below the head of %d: %w", from, h.Size, store.ErrCorrupt)
		}
		for _, l := range page {
			if l.Seq != from {
				return fmt.Errorf("sqlite: entry %d is missing below the head of %d: %w", from, h.Size, store.ErrCorrupt)
			}
			if err := s.check(ctx); err != nil {
				return err
			}
			if err := fn(l); err != nil {
				return err
			}
			from++
		}
	}
	return nil
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
			seq  int64
			leaf []byte
			l    store.Line
		)
		if err := rs.Scan(&seq, &leaf, &l.Bytes); err != nil {
			return nil, fmt.Errorf("sqlite: reading entries from %d: %w", from, err)
		}
		l.Seq = uint64(seq)
		if err := setLeaf(&l, leaf); err != nil {
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
	args := make([]any, 0, len(indexes))
	for _, idx := range indexes {
		seq, _, ok := sqlrows.HashEntry(idx)
		if !ok {
			return nil, fmt.Errorf("sqlite: hash %d is outside every tree: %w", idx, store.ErrNotFound)
		}
		args = append(args, int64(seq))
	}
	type stored struct{ leaf, nodes []byte }
	found := make(map[uint64]stored, len(args))
	// The entries' hashes and, for the entries a prune deleted, those
	// pruned_hashes keeps.
	in := `(?` + strings.Repeat(",?", len(args)-1) + `)`
	q := `SELECT seq, leaf, nodes FROM entries WHERE seq IN ` + in + ` UNION ALL SELECT seq, leaf, nodes FROM pruned_hashes WHERE seq IN ` + in
	rs, err := s.r.QueryContext(ctx, q, append(args, args...)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: reading hashes: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var (
			seq int64
			st  stored
		)
		if err := rs.Scan(&seq, &st.leaf, &st.nodes); err != nil {
			return nil, fmt.Errorf("sqlite: reading hashes: %w", err)
		}
		found[uint64(seq)] = st
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: reading hashes: %w", err)
	}
	out := make([]tlog.Hash, len(indexes))
	for i, idx := range indexes {
		seq, level, _ := sqlrows.HashEntry(idx)
		st, ok := found[seq]
		if !ok {
			return nil, fmt.Errorf("sqlite: hash %d (entry %d) is outside the committed tree: %w", idx, seq, store.ErrNotFound)
		}
		h := st.leaf
		if level > 0 {
			if len(st.nodes) < level*tlog.HashSize {
				return nil, fmt.Errorf("sqlite: entry %d stores %d bytes of tree hashes, not hash %d of level %d: %w", seq, len(st.nodes), idx, level, store.ErrCorrupt)
			}
			h = st.nodes[(level-1)*tlog.HashSize : level*tlog.HashSize]
		}
		if len(h) != tlog.HashSize {
			return nil, fmt.Errorf("sqlite: entry %d has a leaf of %d bytes: %w", seq, len(h), store.ErrCorrupt)
		}
		copy(out[i][:], h)
	}
	return out, nil
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
