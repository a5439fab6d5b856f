package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/bits"
	"strings"

	sqlite3 "modernc.org/sqlite"
	sqlitelib "modernc.org/sqlite/lib"

	"github.com/sealog/sealog/internal/sqlrows"
	"github.com/sealog/sealog/store"
)

// Append commits b if and only if the log's size is b.First, in one
// transaction, and returns the new head. A batch that starts elsewhere
// gets a *store.ConflictError with the head as committed now, and nothing
// is written.
//
// The transaction: BEGIN IMMEDIATE (which takes the file's write lock,
// waiting for another writer's transaction to end), read the head row and
// check its size, read each entry to erase and check the erasure against
// it (store.CheckErasure), insert the entries and the batch row, replace
// the erased lines, move the head row, COMMIT (which fsyncs the WAL). A
// writer that lost the race keeps its turn (turn.go): it returns the
// conflict holding the lock, and commits its re-sequenced batch in the
// same transaction.
//
// Any other error leaves the outcome unknown, as the store contract says;
// SQLite rolls back what it did not commit. After an I/O error (a failed
// write or fsync: SQLITE_IOERR) the Store refuses every later Append with
// an error wrapping store.ErrPoisoned, until it is reopened, as the file
// store does.
func (s *Store) Append(ctx context.Context, b *store.Batch) (store.Head, error) {
	if err := s.check(ctx); err != nil {
		return store.Head{}, err
	}
	if s.w == nil {
		return store.Head{}, fmt.Errorf("sqlite: %w", store.ErrReadOnly)
	}
	if err := s.poisoned.Load(); err != nil {
		return store.Head{}, fmt.Errorf("sqlite: %s: %w (after: %v)", s.path, store.ErrPoisoned, *err)
	}
	r, err := sqlrows.FromBatch(b)
	if err != nil {
		return store.Head{}, fmt.Errorf("sqlite: malformed batch at %d: %w", b.First, err)
	}
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	h, err := s.appendLocked(ctx, b, r)
	if err != nil && isIOError(err) {
		s.poisoned.CompareAndSwap(nil, &err)
		return store.Head{}, fmt.Errorf("%w: %w", err, store.ErrPoisoned)
	}
	return h, err
}

// appendLocked is Append with s.appendMu held.
func (s *Store) appendLocked(ctx context.Context, b *store.Batch, r *sqlrows.Rows) (store.Head, error) {
	var err error
	t := s.takeTurn()
	if t == nil {
		if t, err = s.begin(ctx); err != nil {
			return store.Head{}, fmt.Errorf("sqlite: appending at %d: %w", b.First, err)
		}
	}
	if t.head.Size != b.First {
		return store.Head{}, &store.ConflictError{First: b.First, Head: t.head, Reserved: s.keepTurn(t)}
	}
	defer t.rollback() // after Commit, a no-op
	if err := s.appendIn(ctx, t.tx, b, r); err != nil {
		return store.Head{}, err
	}
	if err := t.tx.Commit(); err != nil {
		return store.Head{}, fmt.Errorf("sqlite: committing the batch at %d: %w", b.First, err)
	}
	s.ckpt.commits.Add(1)
	h := b.Head()
	h.Checkpoint = bytes.Clone(h.Checkpoint)
	return h, nil
}

// isIOError reports whether err is SQLite's report of a failed read,
// write or fsync of the file, after which what reached the disk is
// unknown.
func isIOError(err error) bool {
	var se *sqlite3.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlitelib.SQLITE_IOERR
}

// begin starts a write transaction and reads the head in it. The
// transaction outlives ctx (database/sql would roll it back when ctx is
// done, and a turn must outlast the Append that took it); its statements
// run with ctx. BEGIN IMMEDIATE (the DSN's _txlock) waits for the lock at
// most Options.BusyTimeout.
func (s *Store) begin(ctx context.Context) (*turn, error) {
	tx, err := s.w.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		return nil, err
	}
	h, err := scanHead(tx.QueryRowContext(ctx, selectHead))
	if err != nil {
		tx.Rollback()
		return nil, fmt.Errorf("reading the head: %w", err)
	}
	return &turn{tx: tx, head: h}, nil
}

// insertChunk is the most entries one INSERT statement inserts: 8
// parameters each, well below SQLite's limit of 32766.
const insertChunk = 1 << (insertSizes - 1)

// appendIn writes b in tx, whose head is b.First.
func (s *Store) appendIn(ctx context.Context, tx *sql.Tx, b *store.Batch, r *sqlrows.Rows) error {
	var erased map[uint64][]byte
	if len(b.Erasures) > 0 {
		var err error
		if erased, err = checkErasures(ctx, tx, b); err != nil {
			return fmt.Errorf("sqlite: %w", err)
		}
	}
	args := make([]any, 0, 8*min(len(b.Ends), insertChunk))
	for lo := 0; lo < len(b.Ends); {
		// Chunks of insertChunk entries, then of the powers of two that
		// make up the rest: a prepared statement for each size.
		n := insertChunk
		for n > len(b.Ends)-lo {
			n /= 2
		}
		args = args[:0]
		for i := lo; i < lo+n; i++ {
			args = append(args, int64(b.First)+int64(i), r.Times[i], orNull(r.Kinds[i]), orNull(r.Actors[i]), orNull(r.Resources[i]), r.Leaves[i], r.Nodes[i], r.Lines[i])
		}
		if _, err := tx.StmtContext(ctx, s.ws.inserts[bits.Len(uint(n))-1]).ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("sqlite: appending %d entries at %d: %w", len(b.Ends), b.First, err)
		}
		lo += n
	}
	h := b.Head()
	if _, err := tx.StmtContext(ctx, s.ws.insertBatch).ExecContext(ctx, int64(h.Size), int64(b.First), h.Checkpoint); err != nil {
		return fmt.Errorf("sqlite: appending at %d: %w", b.First, err)
	}
	for seq, line := range erased {
		if _, err := tx.ExecContext(ctx, `UPDATE entries SET line = ?, kind = NULL, actor = NULL, resource = NULL WHERE seq = ?`, line, int64(seq)); err != nil {
			return fmt.Errorf("sqlite: erasing entry %d: %w", seq, err)
		}
	}
	if _, err := tx.StmtContext(ctx, s.ws.updateHead).ExecContext(ctx, int64(h.Size), h.LastLeaf[:], h.LastTime, h.Checkpoint); err != nil {
		return fmt.Errorf("sqlite: moving the head to %d: %w", h.Size, err)
	}
	return nil
}

// The statements of an Append besides the inserts of entries, prepared
// by Open on the writer's connection.
const (
	insertBatch = `INSERT INTO batches (size, first, checkpoint) VALUES (?, ?, ?)`
	updateHead  = `UPDATE head SET size = ?, last_leaf = ?, last_time = ?, checkpoint = ? WHERE id = 1`
)

// writerStmts are the writer's prepared statements.
type writerStmts struct {
	insertBatch, updateHead *sql.Stmt
	inserts                 [insertSizes]*sql.Stmt // inserts[i] inserts 2^i entries
}

// insertSizes is how many sizes of entry inserts are prepared: 1, 2, 4,
// ..., insertChunk entries.
const insertSizes = 7

// prepare prepares the writer's statements.
func (s *Store) prepare(ctx context.Context) error {
	var err error
	if s.ws.insertBatch, err = s.w.PrepareContext(ctx, insertBatch); err != nil {
		return err
	}
	if s.ws.updateHead, err = s.w.PrepareContext(ctx, updateHead); err != nil {
		return err
	}
	for i := range s.ws.inserts {
		if s.ws.inserts[i], err = s.w.PrepareContext(ctx, insertSQL(1<<i)); err != nil {
			return err
		}
	}
	return nil
}

func insertSQL(n int) string {
	var sb strings.Builder
	sb.WriteString(`INSERT INTO entries (seq, time_ns, kind, actor, resource, leaf, nodes, line) VALUES `)
	for i := range n {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`(?,?,?,?,?,?,?,?)`)
	}
	return sb.String()
}

// orNull is s, or NULL if it is empty.
func orNull(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// checkErasures checks each of b's erasures against the line stored (or
// erased by an earlier erasure of b), and returns the erased lines,
// without newlines, by seq.
func checkErasures(ctx context.Context, tx *sql.Tx, b *store.Batch) (map[uint64][]byte, error) {
	erased := make(map[uint64][]byte, len(b.Erasures))
	for _, e := range b.Erasures {
		if e.Seq >= b.First {
			return nil, fmt.Errorf("erasure of entry %d: not committed before the batch at %d", e.Seq, b.First)
		}
		var leaf, line []byte
		err := tx.QueryRowContext(ctx, `SELECT leaf, line FROM entries WHERE seq = ?`, int64(e.Seq)).Scan(&leaf, &line)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("erasure of entry %d: the entry is missing below the head: %w", e.Seq, store.ErrCorrupt)
		}
		var l store.Line
		if err == nil {
			l, err = sqlrows.Line(int64(e.Seq), leaf, line)
		}
		if err != nil {
			return nil, fmt.Errorf("erasure of entry %d: %w", e.Seq, err)
		}
		if line, ok := erased[e.Seq]; ok {
			l.Bytes = line
		}
		if err := store.CheckErasure(l, e); err != nil {
			return nil, err
		}
		erased[e.Seq] = e.Line[:len(e.Line)-1]
	}
	return erased, nil
}
