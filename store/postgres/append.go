package postgres

import (
	"bytes"
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sealog/sealog/internal/sqlrows"
	"github.com/sealog/sealog/store"
)

// Append commits b if and only if the log's size is b.First, in one
// transaction, and returns the new head. A batch that starts elsewhere
// gets a *store.ConflictError with the head as committed now, and nothing
// is written.
//
// The common case is one statement, sent in one round trip
// (queries.appendBatch): an UPDATE of the head row conditional on its
// size, which takes the row's lock, and the INSERTs of the batch row and
// of the entries, which happen only if the head moved; its COMMIT is the
// durable write. A writer that races for the head row waits for the
// transaction that holds it, then finds the size moved.
//
// The writer that lost keeps its turn (see turn.go): it locks the head row
// (SELECT … FOR UPDATE) in a transaction that it keeps open, returns the
// conflict with the head it locked, and commits its re-sequenced batch in
// that transaction, so that it cannot lose again to a writer whose next
// batch was ready first. A batch with erasures is appended the same way,
// in an explicit transaction: lock the head row and check its size, lock
// the entries to erase and check each erasure against the stored line
// (store.CheckErasure), then the append statement, the UPDATE of the
// erased lines, and COMMIT.
//
// Any other error (a broken connection, a failed COMMIT) leaves the
// outcome unknown, as the store contract says; the pool replaces a broken
// connection, so the next call connects again.
func (s *Store) Append(ctx context.Context, b *store.Batch) (store.Head, error) {
	if err := s.check(ctx); err != nil {
		return store.Head{}, err
	}
	if s.readOnly {
		return store.Head{}, fmt.Errorf("postgres: %w", store.ErrReadOnly)
	}
	r, err := sqlrows.FromBatch(b)
	if err != nil {
		return store.Head{}, fmt.Errorf("postgres: malformed batch at %d: %w", b.First, err)
	}
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	s.takeLease(ctx)
	defer s.afterAppend()
	if t := s.takeTurn(); t != nil {
		err = s.appendInTurn(ctx, t, b, r)
	} else if len(b.Erasures) > 0 {
		err = s.appendLocked(ctx, b, r)
	} else {
		err = s.appendFast(ctx, b, r)
	}
	if err != nil {
		return store.Head{}, err
	}
	h := b.Head()
	h.Checkpoint = bytes.Clone(h.Checkpoint)
	return h, nil
}

// querier is what statements run on: the pool, or a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// appendFast runs the append statement on its own; if the head had moved,
// it takes the turn and returns the conflict.
func (s *Store) appendFast(ctx context.Context, b *store.Batch, r *sqlrows.Rows) error {
	ok, err := s.appendStatement(ctx, s.pool, b, r)
	if err != nil || ok {
		return err
	}
	return s.appendLocked(ctx, b, r)
}

// appendLocked begins a transaction, locks the head row, and appends b in
// it (appendInTurn): after a lost race, that takes the turn and returns
// the conflict.
func (s *Store) appendLocked(ctx context.Context, b *store.Batch, r *sqlrows.Rows) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: appending at %d: %w", b.First, err)
	}
	t := &turn{tx: tx}
	if t.head, err = scanHead(tx.QueryRow(ctx, s.q.lockHead)); err != nil {
		t.rollback()
		return fmt.Errorf("postgres: appending at %d: locking the head row: %w", b.First, err)
	}
	return s.appendInTurn(ctx, t, b, r)
}

// appendInTurn appends b in t, whose transaction holds the head row's
// lock, and commits; or keeps the turn, if b does not start at the head,
// and returns the conflict. A batch refused (a bad erasure) or an error
// ends the turn.
func (s *Store) appendInTurn(ctx context.Context, t *turn, b *store.Batch, r *sqlrows.Rows) error {
	if t.head.Size != b.First {
		kept := s.keepTurn(ctx, t)
		return &store.ConflictError{First: b.First, Head: t.head, Reserved: kept}
	}
	defer t.rollback() // after Commit, a no-op
	var seqs []int64
	var lines [][]byte
	if len(b.Erasures) > 0 {
		var err error
		if seqs, lines, err = s.checkErasures(ctx, t.tx, b); err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
	}
	ok, err := s.appendStatement(ctx, t.tx, b, r)
	if err == nil && !ok {
		err = fmt.Errorf("the head row moved while locked: %w", store.ErrCorrupt)
	}
	if err != nil {
		return fmt.Errorf("postgres: appending at %d: %w", b.First, err)
	}
	if len(seqs) > 0 {
		if _, err := t.tx.Exec(ctx, s.q.erase, seqs, lines); err != nil {
			return fmt.Errorf("postgres: erasing at %d: %w", b.First, err)
		}
	}
	if err := t.tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: committing the batch at %d: %w", b.First, err)
	}
	return nil
}

// appendStatement runs the conditional append statement on q. ok is false
// if the head's size was not b.First, and nothing was written.
func (s *Store) appendStatement(ctx context.Context, q querier, b *store.Batch, r *sqlrows.Rows) (ok bool, err error) {
	h := b.Head()
	tag, err := q.Exec(ctx, s.q.appendBatch,
		int64(b.First), int64(h.Size), h.LastLeaf[:], h.LastTime, h.Checkpoint,
		r.Times, r.Kinds, r.Actors, r.Resources, r.Leaves, r.Nodes, r.Lines)
	if err != nil {
		return false, fmt.Errorf("postgres: appending %d entries at %d: %w", len(b.Ends), b.First, err)
	}
	switch n := tag.RowsAffected(); n {
	case int64(len(b.Ends)):
		return true, nil
	case 0:
		return false, nil
	default:
		return false, fmt.Errorf("postgres: appending %d entries at %d inserted %d", len(b.Ends), b.First, n)
	}
}

// checkErasures locks the rows b's erasures replace and checks each
// erasure against the line stored (or erased by an earlier erasure of
// b), and returns the seqs and erased lines (without newlines) to store.
func (s *Store) checkErasures(ctx context.Context, tx pgx.Tx, b *store.Batch) ([]int64, [][]byte, error) {
	var seqs []int64
	for _, e := range b.Erasures {
		if e.Seq >= b.First {
			return nil, nil, fmt.Errorf("erasure of entry %d: not committed before the batch at %d", e.Seq, b.First)
		}
		seqs = append(seqs, int64(e.Seq))
	}
	stored := make(map[uint64]store.Line, len(seqs))
	rs, err := tx.Query(ctx, s.q.lockEntries, seqs)
	if err != nil {
		return nil, nil, fmt.Errorf("locking the entries to erase: %w", err)
	}
	for rs.Next() {
		var (
			seq        int64
			leaf, line []byte
		)
		if err := rs.Scan(&seq, &leaf, &line); err != nil {
			rs.Close()
			return nil, nil, fmt.Errorf("reading the entries to erase: %w", err)
		}
		l, err := sqlrows.Line(seq, leaf, line)
		if err != nil {
			rs.Close()
			return nil, nil, err
		}
		stored[l.Seq] = l
	}
	if err := rs.Err(); err != nil {
		return nil, nil, fmt.Errorf("reading the entries to erase: %w", err)
	}
	seqs = seqs[:0]
	var lines [][]byte
	for _, e := range b.Erasures {
		l, ok := stored[e.Seq]
		if !ok {
			return nil, nil, fmt.Errorf("erasure of entry %d: the entry is missing below the head: %w", e.Seq, store.ErrCorrupt)
		}
		if err := store.CheckErasure(l, e); err != nil {
			return nil, nil, err
		}
		l.Bytes = e.Line[:len(e.Line)-1]
		stored[e.Seq] = l
		seqs, lines = append(seqs, int64(e.Seq)), append(lines, l.Bytes)
	}
	return seqs, lines, nil
}
