package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	sqlite3 "modernc.org/sqlite"
	sqlitelib "modernc.org/sqlite/lib"

	"github.com/sealog/sealog/internal/sqlschema"
	"github.com/sealog/sealog/store"
)

// Format is the format name a log's metadata records.
const Format = "sealog/v1"

// Store is a log in a SQLite file. It implements store.Store; all its
// methods are safe for concurrent use, and several Stores, in one process
// or several, may append to one file at once.
type Store struct {
	path     string
	w        *sql.DB // the writer: one connection, BEGIN IMMEDIATE; nil when read-only
	r        *sql.DB // readers
	meta     store.Metadata
	pageSize int
	busy     time.Duration
	closed   atomic.Bool
	poisoned atomic.Pointer[error] // the I/O error after which Append refuses, if any
	ckpt     *checkpointer         // nil when read-only

	turnTimeout time.Duration
	appendMu    sync.Mutex // serialises Appends; guards turn
	turn        *turn      // the write transaction held after a lost race, or nil
	ws          writerStmts
}

var _ store.Store = (*Store)(nil)

// Open opens the log in the SQLite file at path. A missing or empty file
// is created as a new log if opts has Origin and Key (and not NoCreate or
// ReadOnly); otherwise Open fails with an error wrapping store.ErrNotLog,
// as it does for a file that is not a sealog database. A schema of
// another version than this sealog's fails with one wrapping
// store.ErrSchema, unless it is older and opts.Migrate is set.
//
// The file is in WAL mode with synchronous=FULL: a commit is durable when
// it returns, and readers never wait for the writer.
func Open(path string, opts Options) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	s := &Store{path: abs, pageSize: opts.PageSize, turnTimeout: opts.TurnTimeout}
	if s.pageSize <= 0 {
		s.pageSize = DefaultPageSize
	}
	if s.turnTimeout == 0 {
		s.turnTimeout = DefaultTurnTimeout
	}
	creating := !opts.ReadOnly && !opts.NoCreate && opts.Origin != "" && opts.Key != ""
	fi, err := os.Stat(abs)
	switch {
	case errors.Is(err, os.ErrNotExist) && !creating:
		return nil, fmt.Errorf("sqlite: %s: %w", abs, store.ErrNotLog)
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("sqlite: %w", err)
	case err == nil && fi.IsDir():
		return nil, fmt.Errorf("sqlite: %s is a directory: %w", abs, store.ErrNotLog)
	}
	busy := opts.BusyTimeout
	if busy <= 0 {
		busy = DefaultBusyTimeout
	}
	s.busy = busy
	mode := "ro"
	if !opts.ReadOnly {
		mode = "rw"
		if s.w, err = sql.Open("sqlite", dsn(abs, "rwc", busy, writerParams)); err != nil {
			return nil, fmt.Errorf("sqlite: %w", err)
		}
		s.w.SetMaxOpenConns(1)
		s.w.SetMaxIdleConns(1)
		s.w.SetConnMaxIdleTime(0)
	}
	if s.r, err = sql.Open("sqlite", dsn(abs, mode, busy, "&_query_only=1")); err != nil {
		s.closeDBs()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	s.r.SetMaxIdleConns(4)
	ctx, cancel := context.WithTimeout(context.Background(), busy+10*time.Second)
	defer cancel()
	if err := s.open(ctx, &opts, creating); err != nil {
		s.closeDBs()
		return nil, err
	}
	return s, nil
}

// writerParams are the writer connection's settings: every transaction
// BEGIN IMMEDIATE, WAL mode, synchronous=FULL (each commit fsyncs the
// WAL), statement journals in memory, no checkpoints by the writer
// (checkpoint.go), and a reused WAL truncated to walLimit.
var writerParams = fmt.Sprintf("&_txlock=immediate&_journal_mode=WAL&_synchronous=FULL&_pragma=temp_store(MEMORY)&_pragma=wal_autocheckpoint(0)&_pragma=journal_size_limit(%d)", walLimit)

// dsn returns the modernc.org/sqlite data source name of the file at path.
func dsn(path, mode string, busy time.Duration, extra string) string {
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	return fmt.Sprintf("file:%s?mode=%s&_busy_timeout=%d%s", esc, mode, busy.Milliseconds(), extra)
}

// beginOpen begins open's transaction (BEGIN IMMEDIATE on the writer).
// Connecting sets WAL mode; while another process creates the file or
// recovers its WAL, SQLite can answer that, or the BEGIN, with
// SQLITE_BUSY at once, without waiting in its busy handler (measured: one
// open in 40 of four at once on a new file). So a busy answer is retried
// until ctx ends, which Open bounds by the busy timeout.
func beginOpen(ctx context.Context, db *sql.DB) (*sql.Tx, error) {
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		tx, err := db.BeginTx(ctx, nil)
		if err == nil || !isBusy(err) {
			return tx, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(wait):
		}
	}
}

// isBusy reports whether err is SQLite's SQLITE_BUSY (any extended code).
func isBusy(err error) bool {
	var se *sqlite3.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlitelib.SQLITE_BUSY
}

// open finds, creates or migrates the log and reads its metadata: in one
// write transaction, so that of two processes that create a log at once
// one creates it and the other finds it.
func (s *Store) open(ctx context.Context, opts *Options, creating bool) error {
	lg := opts.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	db := s.w
	if db == nil {
		db = s.r
	}
	tx, err := beginOpen(ctx, db)
	if err != nil {
		return s.wrapOpen(err)
	}
	defer tx.Rollback()
	v, err := schemaVersion(ctx, tx)
	if err != nil {
		return s.wrapOpen(err)
	}
	switch err := checkVersion(s.path, v, opts); {
	case v == 0:
		if !creating {
			return fmt.Errorf("sqlite: %s: %w", s.path, store.ErrNotLog)
		}
		if err := s.create(ctx, tx, opts); err != nil {
			return fmt.Errorf("sqlite: creating the log in %s: %w", s.path, err)
		}
		lg.Info("created the log", "path", s.path, "origin", opts.Origin, "version", SchemaVersion())
	case errors.Is(err, sqlschema.ErrNeedsMigration):
		if err := migrate(ctx, tx, v); err != nil {
			return fmt.Errorf("sqlite: %s: migrating the schema from version %d: %w", s.path, v, err)
		}
		lg.Info("migrated the log's schema", "path", s.path, "from", v, "to", SchemaVersion())
	case err != nil:
		return err
	}
	if s.meta, err = readMeta(ctx, tx); err != nil {
		return fmt.Errorf("sqlite: %s: %w", s.path, err)
	}
	if opts.Key != "" && opts.Key != s.meta.Key {
		return fmt.Errorf("sqlite: %w", &store.KeyError{Log: "the log in " + s.path, Given: opts.Key, Current: s.meta.Key})
	}
	if err := tx.Commit(); err != nil {
		return s.wrapOpen(err)
	}
	if s.w != nil {
		var jm string
		if err := s.w.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&jm); err != nil {
			return s.wrapOpen(err)
		}
		if !strings.EqualFold(jm, "wal") {
			return fmt.Errorf("sqlite: %s is in journal mode %q, not WAL (is it on a file system without shared memory?)", s.path, jm)
		}
		if err := s.prepare(ctx); err != nil {
			return s.wrapOpen(err)
		}
		cdb, err := sql.Open("sqlite", dsn(s.path, "rw", s.busy, ""))
		if err != nil {
			return s.wrapOpen(err)
		}
		cdb.SetMaxOpenConns(1)
		s.ckpt = startCheckpointer(cdb, s.path)
	}
	return nil
}

// create makes the schema and the log's metadata.
func (s *Store) create(ctx context.Context, tx *sql.Tx, opts *Options) error {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	if err := migrate(ctx, tx, 0); err != nil {
		return err
	}
	created := now().UTC()
	_, err := tx.ExecContext(ctx, `INSERT INTO meta (id, format, origin, key, created) VALUES (1, ?, ?, ?, ?)`,
		Format, opts.Origin, opts.Key, created.Format(time.RFC3339Nano))
	return err
}

// readMeta reads the log's identity.
func readMeta(ctx context.Context, q queryer) (store.Metadata, error) {
	var (
		m       store.Metadata
		created string
	)
	err := q.QueryRowContext(ctx, `SELECT format, origin, key, created FROM meta`).Scan(&m.Format, &m.Origin, &m.Key, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("no metadata row: %w", store.ErrCorrupt)
	}
	if err != nil {
		return m, err
	}
	if m.Created, err = time.Parse(time.RFC3339Nano, created); err != nil {
		return m, fmt.Errorf("the creation time %q: %w", created, store.ErrCorrupt)
	}
	return m, nil
}

// wrapOpen wraps an error of Open: a file that is not a database is not
// a log.
func (s *Store) wrapOpen(err error) error {
	var se *sqlite3.Error
	if errors.As(err, &se) && se.Code()&0xff == sqlitelib.SQLITE_NOTADB {
		return fmt.Errorf("sqlite: %s: %v: %w", s.path, err, store.ErrNotLog)
	}
	return fmt.Errorf("sqlite: %s: %w", s.path, err)
}

// Path returns the absolute path of the log's file.
func (s *Store) Path() string { return s.path }

// check returns the error a method returns before doing anything: the
// store is closed or ctx is done.
func (s *Store) check(ctx context.Context) error {
	if s.closed.Load() {
		return fmt.Errorf("sqlite: %w", store.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	return nil
}

// Close closes the store's connections. Every later call, Close
// included, returns an error wrapping store.ErrClosed. Other Stores on
// the file are unaffected.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return fmt.Errorf("sqlite: %w", store.ErrClosed)
	}
	s.endTurn()
	return s.closeDBs()
}

func (s *Store) closeDBs() error {
	var err error
	if s.w != nil {
		err = s.w.Close()
	}
	if s.ckpt != nil {
		if cerr := s.ckpt.close(); err == nil {
			err = cerr
		}
	}
	if rerr := s.r.Close(); err == nil && rerr != nil {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("sqlite: closing %s: %w", s.path, err)
	}
	return nil
}
