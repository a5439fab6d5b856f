package storeopen

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/store/file"
	"github.com/sealog/sealog/store/postgres"
	"github.com/sealog/sealog/store/sqlite"
)

// Options configure Open. The fields at the top apply to every kind of
// store and override the same fields of the backend's own options below,
// which carry the knobs only one backend has. The zero value opens an
// existing log for writing.
type Options struct {
	// Origin and Key are the log's origin and verifier key: with both
	// set, Open creates the log if the place named holds none. A non-empty
	// Key must be the existing log's.
	Origin, Key string
	// NoCreate makes a place that holds no log an error wrapping
	// store.ErrNotLog, even with Origin and Key set.
	NoCreate bool
	// ReadOnly opens the log for reading only.
	ReadOnly bool
	// Migrate lets a database store bring an older schema up to date
	// (postgres.Options.Migrate, sqlite.Options.Migrate).
	Migrate bool
	// Logger receives what the backend reports; nil is silent.
	Logger *slog.Logger
	// Now is the clock for the creation time; nil means time.Now.
	Now func() time.Time

	// File, Postgres and SQLite hold each backend's other options
	// (segment size and compression; schema, pool size; busy timeout).
	File     file.Options
	Postgres postgres.Options
	SQLite   sqlite.Options
}

// Open opens the store that name names (see Parse) with opts. The caller
// closes it, or hands it to sealog.New, which does.
func Open(ctx context.Context, name string, opts Options) (store.Store, error) {
	loc, err := Parse(name)
	if err != nil {
		return nil, err
	}
	return OpenLocation(ctx, loc, opts)
}

// OpenLocation opens the store at loc with opts.
func OpenLocation(ctx context.Context, loc Location, opts Options) (store.Store, error) {
	switch loc.Kind {
	case Postgres:
		o := opts.Postgres
		o.Origin, o.Key, o.NoCreate, o.ReadOnly, o.Migrate, o.Logger, o.Now = opts.Origin, opts.Key, opts.NoCreate, opts.ReadOnly, opts.Migrate, opts.Logger, opts.Now
		s, err := postgres.Open(ctx, loc.Conn, o)
		if err != nil {
			return nil, fmt.Errorf("storeopen: %s: %w", loc, err)
		}
		return s, nil
	case SQLite:
		o := opts.SQLite
		o.Origin, o.Key, o.NoCreate, o.ReadOnly, o.Migrate, o.Logger, o.Now = opts.Origin, opts.Key, opts.NoCreate, opts.ReadOnly, opts.Migrate, opts.Logger, opts.Now
		s, err := sqlite.Open(loc.Path, o)
		if err != nil {
			return nil, fmt.Errorf("storeopen: %w", err)
		}
		return s, nil
	case File:
		o := opts.File
		o.Origin, o.Key, o.NoCreate, o.ReadOnly, o.Logger, o.Now = opts.Origin, opts.Key, opts.NoCreate, opts.ReadOnly, opts.Logger, opts.Now
		s, err := file.Open(loc.Path, o)
		if err != nil {
			return nil, fmt.Errorf("storeopen: %s: %w", loc.Path, err)
		}
		return s, nil
	}
	return nil, fmt.Errorf("storeopen: unknown kind of store %q", loc.Kind)
}
