package main

import (
	"context"
	"errors"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/store"
	storeopen "github.com/sealog/sealog/store/open"
)

// A LOG argument names a log directory (the embedded file store) or a
// database: postgres://…, postgresql://…, sqlite:///path, sqlite:path.
// Package storeopen tells them apart.

// openTimeout bounds opening a database log (connecting, reading its
// metadata), so that an unreachable server is an error, not a hang.
const openTimeout = 30 * time.Second

// databaseLog returns the database a LOG argument names; ok is false for
// a directory (file:///dir included, as dir). A name that starts like a
// URL of another scheme is a usage error.
func databaseLog(name string) (loc storeopen.Location, ok bool, err error) {
	loc, err = storeopen.Parse(name)
	if err != nil {
		return loc, false, usageError("%s", strings.TrimPrefix(err.Error(), "storeopen: ")).
			withHint("name a log by its directory, postgres://USER@HOST/DB?schema=S or sqlite:///PATH")
	}
	return loc, loc.Kind != storeopen.File, nil
}

// logPath returns the directory a file:// LOG argument names, or name.
func logPath(name string) string {
	if loc, err := storeopen.Parse(name); err == nil && loc.Kind == storeopen.File {
		return loc.Path
	}
	return name
}

// openDatabase opens the log in the database loc names. With key it may
// append (create makes a log there if there is none); without, it
// reads. opts.Key is set from key.
func openDatabase(ctx context.Context, loc storeopen.Location, key *sealog.Key, create bool, opts sealog.Options) (*sealog.Log, error) {
	octx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	so := storeopen.Options{NoCreate: !create, ReadOnly: key == nil, Logger: opts.Logger, Now: opts.Clock}
	opts.Key, opts.ReadOnly = key, key == nil
	// The key goes to the store only to create a log: an existing one may
	// have been rotated to key (docs/KEYS.md), which sealog.New checks
	// against its chain of keys.
	so.NoCreate = true
	st, err := storeopen.OpenLocation(octx, loc, so)
	if errors.Is(err, store.ErrNotLog) && key != nil && create {
		so.NoCreate, so.Origin, so.Key = false, key.Origin(), key.VerifierKey()
		st, err = storeopen.OpenLocation(octx, loc, so)
	}
	if err != nil {
		return nil, databaseError(loc, err)
	}
	l, err := sealog.New(octx, st, opts)
	if err != nil {
		st.Close()
		return nil, databaseError(loc, err)
	}
	return l, nil
}

// databaseError turns an error opening a database log into a CLI error
// that names the database (without its password).
func databaseError(loc storeopen.Location, err error) error {
	msg := strings.TrimPrefix(strings.TrimPrefix(err.Error(), "storeopen: "), "sealog: ")
	name := loc.String()
	var schemaErr *store.SchemaError
	switch {
	case errors.Is(err, store.ErrNotLog):
		return ioError("%s holds no sealog log", name).
			withHint("create one with 'sealog init %s --key FILE'", name)
	case errors.As(err, &schemaErr) && schemaErr.Older():
		return ioError("%s", msg).withHint("once no older sealog uses it, run 'sealog migrate %s'", name)
	case errors.Is(err, store.ErrSchema):
		return ioError("%s", msg).withHint("every process on one database must run the same sealog version")
	case errors.Is(err, sealog.ErrCorrupt), errors.Is(err, sealog.ErrTruncated):
		return failError("%s", msg).withHint("run 'sealog verify %s' for a full report", name)
	case keyError(err) != nil:
		return keyError(err)
	case unreachable(err):
		return ioError("%s", msg).
			withHint("check that the database server is running and that the URL's host, port, user and database are right")
	}
	return ioError("%s", msg)
}

// keyError turns an error wrapping a *sealog.KeyError (a log signed by
// another key than the one given) into a CLI error with a hint, or
// returns nil.
func keyError(err error) *cliError {
	var ke *sealog.KeyError
	if !errors.As(err, &ke) {
		return nil
	}
	return ioError("%s", ke.Error()).
		withHint("use the signer key this log is signed by now (--key FILE; its newest key after 'sealog key rotate')")
}

// unreachable reports whether err says the database server could not be
// reached: pgx's connection error, or a network error under it.
func unreachable(err error) bool {
	var ce *pgconn.ConnectError
	var ne net.Error
	var oe *net.OpError
	return errors.As(err, &ce) || errors.As(err, &oe) || errors.As(err, &ne)
}
