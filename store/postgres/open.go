package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sealog/sealog/internal/sqlschema"
	"github.com/sealog/sealog/store"
)

// Format is the format name a log's metadata records.
const Format = "sealog/v1"

// Store is a log in a PostgreSQL schema. It implements store.Store; all
// its methods are safe for concurrent use, and any number of Stores, in
// any number of processes, may append to one log at once.
type Store struct {
	pool     *pgxpool.Pool
	schema   string
	q        queries
	meta     store.Metadata // fixed at creation, read once by Open
	readOnly bool
	pageSize int
	closed   atomic.Bool

	turnTimeout time.Duration            // see turn.go; negative: no turns
	appendMu    sync.Mutex               // serialises Appends; guards turn
	turn        *turn                    // the head row lock held after a lost race, or nil
	view        atomic.Pointer[turnView] // turn's view while it is held, for Head and ReadHashes

	leaseFor       time.Duration // see lease.go; negative: no lease
	lease          writerLease   // guarded by appendMu
	leaseSkipUntil time.Time     // no lease taken before then (lease.go); guarded by appendMu
	leaseMisses    int           // waits for the lease in vain since it was last held; guarded by appendMu
}

var _ store.Store = (*Store)(nil)

// Open connects to the database connString names (a postgres:// or
// postgresql:// URL, or keyword=value settings, as pgx parses them; a
// schema parameter names the log's schema) and opens the log in its
// schema. A schema that holds no log is created, schema and tables, if
// opts has Origin and Key (and not NoCreate or ReadOnly); otherwise Open
// fails with an error wrapping store.ErrNotLog. A schema of another
// version than this sealog's fails with one wrapping store.ErrSchema,
// unless it is older and opts.Migrate is set. Processes that open one
// schema at once are serialised by an advisory lock, so that exactly one
// creates or migrates it.
//
// The Store keeps a pool of connections; a call whose connection breaks
// fails, and later calls connect again.
func Open(ctx context.Context, connString string, opts Options) (*Store, error) {
	cfg, schema, err := poolConfig(connString, &opts)
	if err != nil {
		return nil, err
	}
	if opts.ReadOnly {
		cfg.ConnConfig.RuntimeParams["default_transaction_read_only"] = "on"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := &Store{pool: pool, schema: schema, q: makeQueries(schema), readOnly: opts.ReadOnly, pageSize: opts.PageSize, turnTimeout: opts.TurnTimeout}
	if s.pageSize <= 0 {
		s.pageSize = DefaultPageSize
	}
	if s.leaseFor = opts.WriterLease; s.leaseFor == 0 {
		s.leaseFor = DefaultWriterLease
	}
	if cfg.MaxConns < 3 || opts.ReadOnly {
		s.leaseFor = -1 // the lease's connection would leave the appends none
	}
	if s.turnTimeout == 0 {
		s.turnTimeout = DefaultTurnTimeout
	}
	if err := s.open(ctx, &opts); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// open finds, creates or migrates the log and reads its metadata.
func (s *Store) open(ctx context.Context, opts *Options) error {
	lg := opts.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: connecting: %w", err)
	}
	defer tx.Rollback(context.Background())
	if !opts.ReadOnly {
		// One process at a time creates or migrates a schema.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, "sealog schema "+s.schema); err != nil {
			return fmt.Errorf("postgres: locking schema %s: %w", s.schema, err)
		}
	}
	v, err := schemaVersion(ctx, tx, s.schema)
	if err != nil {
		return fmt.Errorf("postgres: schema %s: %w", s.schema, err)
	}
	if v == 0 {
		return s.create(ctx, tx, opts, lg)
	}
	switch err := checkVersion(s.schema, v, opts); {
	case errors.Is(err, sqlschema.ErrNeedsMigration):
		if err := migrate(ctx, tx, s.schema, v); err != nil {
			return fmt.Errorf("postgres: migrating schema %s from version %d: %w", s.schema, v, err)
		}
		lg.Info("migrated the log's schema", "schema", s.schema, "from", v, "to", SchemaVersion())
	case err != nil:
		return err
	}
	if s.meta, err = readMeta(ctx, tx, s.q); err != nil {
		return fmt.Errorf("postgres: schema %s: %w", s.schema, err)
	}
	if opts.Key != "" && opts.Key != s.meta.Key {
		return fmt.Errorf("postgres: %w", &store.KeyError{Log: "the log in schema " + s.schema, Given: opts.Key, Current: s.meta.Key})
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: schema %s: %w", s.schema, err)
	}
	return nil
}

// create makes the schema, if need be, and the log in it.
func (s *Store) create(ctx context.Context, tx pgx.Tx, opts *Options, lg *slog.Logger) error {
	if opts.ReadOnly || opts.NoCreate || opts.Origin == "" || opts.Key == "" {
		return fmt.Errorf("postgres: schema %s: %w", s.schema, store.ErrNotLog)
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	s.meta = store.Metadata{Format: Format, Origin: opts.Origin, Key: opts.Key, Created: now().UTC().Truncate(time.Microsecond)}
	if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{s.schema}.Sanitize()); err != nil {
		return fmt.Errorf("postgres: creating schema %s: %w", s.schema, err)
	}
	if err := migrate(ctx, tx, s.schema, 0); err != nil {
		return fmt.Errorf("postgres: creating the log in schema %s: %w", s.schema, err)
	}
	m := s.meta
	if _, err := tx.Exec(ctx, s.q.insertMeta, m.Format, m.Origin, m.Key, m.Created); err != nil {
		return fmt.Errorf("postgres: creating the log in schema %s: %w", s.schema, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: creating the log in schema %s: %w", s.schema, err)
	}
	lg.Info("created the log", "schema", s.schema, "origin", m.Origin, "version", SchemaVersion())
	return nil
}

// readMeta reads the log's identity.
func readMeta(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, qs queries) (store.Metadata, error) {
	var m store.Metadata
	err := q.QueryRow(ctx, qs.selectMeta).Scan(&m.Format, &m.Origin, &m.Key, &m.Created)
	if errors.Is(err, pgx.ErrNoRows) {
		return m, fmt.Errorf("no metadata row: %w", store.ErrCorrupt)
	}
	m.Created = m.Created.UTC()
	return m, err
}

// Schema returns the name of the schema that holds the log.
func (s *Store) Schema() string { return s.schema }

// check returns the error a method returns before doing anything: the
// store is closed or ctx is done.
func (s *Store) check(ctx context.Context) error {
	if s.closed.Load() {
		return fmt.Errorf("postgres: %w", store.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}

// Close closes the store's connections, once those in use are released.
// Every later call, Close included, returns an error wrapping
// store.ErrClosed. Other Stores on the log are unaffected.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return fmt.Errorf("postgres: %w", store.ErrClosed)
	}
	s.endTurn()
	s.appendMu.Lock()
	s.releaseLease()
	s.appendMu.Unlock()
	s.pool.Close()
	return nil
}
