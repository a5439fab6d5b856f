package sqlite

import (
	"log/slog"
	"time"
)

// Defaults for the zero Options.
const (
	// DefaultBusyTimeout is how long a statement waits for another
	// connection's write lock on the file.
	DefaultBusyTimeout = 30 * time.Second
	// DefaultPageSize is how many entries ReadLines fetches per query.
	DefaultPageSize = 512
	// DefaultTurnTimeout is how long a Store that lost a race holds the
	// write lock for its retry (see turn.go).
	DefaultTurnTimeout = 100 * time.Millisecond
)

// Options configure Open. The zero value opens an existing log for
// writing; with Origin and Key set, Open creates the log if the file does
// not exist (or is empty).
type Options struct {
	// NoCreate makes Open fail with an error wrapping store.ErrNotLog when
	// the file holds no log, even with Origin and Key set.
	NoCreate bool
	// Origin is the log's origin (checkpoint first line); needed to create.
	Origin string
	// Key is the log's note verifier key. Needed to create; when opening an
	// existing log, a non-empty Key must be the one the log was created
	// with.
	Key string
	// ReadOnly opens the file for reading only, without creating or
	// migrating anything; Append fails with store.ErrReadOnly. Other
	// processes may write the log meanwhile.
	ReadOnly bool
	// Migrate lets Open bring an older schema up to the version this
	// sealog knows. Without it, an older schema is an error wrapping
	// store.ErrSchema: migrate only when no older sealog still uses it.
	Migrate bool
	// BusyTimeout bounds how long a statement waits for another
	// connection's lock on the file; 0 means DefaultBusyTimeout.
	BusyTimeout time.Duration
	// PageSize is how many entries ReadLines fetches per query; 0 means
	// DefaultPageSize.
	PageSize int
	// TurnTimeout bounds how long a Store that lost a race keeps its turn
	// (holds the write lock) for the retry; 0 means DefaultTurnTimeout, a
	// negative value gives up the turn at once.
	TurnTimeout time.Duration
	// Logger receives what Open created or migrated; nil is silent.
	Logger *slog.Logger
	// Now is the clock for the creation time in the metadata; nil means
	// time.Now.
	Now func() time.Time
}
