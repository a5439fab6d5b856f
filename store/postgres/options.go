package postgres

import (
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultSchema is the schema that holds the log when neither the
// connection string's schema parameter nor Options.Schema names one.
const DefaultSchema = "sealog"

// DefaultPageSize is how many entries ReadLines fetches per query when
// Options.PageSize is zero.
const DefaultPageSize = 512

// Options configure Open. The zero value opens an existing log, in schema
// DefaultSchema (or the one the connection string names), for writing;
// with Origin and Key set, Open creates the log if the schema holds none.
type Options struct {
	// Schema is the PostgreSQL schema that holds the log: one log per
	// schema, so one database can hold several. It overrides the schema
	// parameter of the connection string (postgres://…?schema=audit); if
	// both are empty it is DefaultSchema. It must be a plain lower-case
	// identifier (ValidSchema).
	Schema string
	// NoCreate makes Open fail with an error wrapping store.ErrNotLog when
	// the schema holds no log, even with Origin and Key set.
	NoCreate bool
	// Origin is the log's origin (checkpoint first line); needed to create.
	Origin string
	// Key is the log's note verifier key. Needed to create; when opening an
	// existing log, a non-empty Key must be the one the log was created
	// with.
	Key string
	// ReadOnly opens without creating or migrating anything; Append fails
	// with store.ErrReadOnly. Use it on a hot standby.
	ReadOnly bool
	// Migrate lets Open bring an older schema up to the version this
	// sealog knows. Without it, an older schema is an error wrapping
	// store.ErrSchema: migrate only when no older sealog still uses it.
	Migrate bool
	// MaxConns caps the connection pool; 0 means pgxpool's default (the
	// larger of 4 and the number of CPUs). It is at least 2: a Store that
	// lost a race holds one connection for its turn (turn.go). Below 3 the
	// Store takes no writer lease (lease.go), whose session holds one.
	MaxConns int32
	// PageSize is how many entries ReadLines fetches per query; 0 means
	// DefaultPageSize.
	PageSize int
	// TurnTimeout bounds how long a Store that lost a race for the head
	// row keeps its turn (holds the row's lock) for the retry; 0 means
	// DefaultTurnTimeout, a negative value gives up the turn at once.
	TurnTimeout time.Duration
	// WriterLease is how long a Store that took the log's writer lease
	// (lease.go) keeps it while it goes on appending; 0 means
	// DefaultWriterLease, a negative value takes no lease (every batch
	// races for the head row).
	WriterLease time.Duration
	// Logger receives what Open created or migrated; nil is silent.
	Logger *slog.Logger
	// Now is the clock for the creation time in the metadata; nil means
	// time.Now. PostgreSQL keeps it to the microsecond.
	Now func() time.Time
}

// schemaParam is the connection string parameter that names the schema.
const schemaParam = "schema"

// schemaName matches the schema names Open accepts.
var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// ValidSchema checks that name can name a log's schema: 1 to 63 lower-case
// ASCII letters, digits and underscores, not starting with a digit, and
// not reserved by PostgreSQL (pg_*, information_schema). Open quotes it
// all the same.
func ValidSchema(name string) error {
	switch {
	case !schemaName.MatchString(name):
		return fmt.Errorf("postgres: schema name %q: want 1 to 63 lower-case letters, digits or underscores, not starting with a digit", name)
	case len(name) >= 3 && name[:3] == "pg_", name == "information_schema":
		return fmt.Errorf("postgres: schema name %q is reserved by PostgreSQL", name)
	}
	return nil
}

// poolConfig parses connString (a postgres:// URL or keyword=value
// settings, as pgx takes them), takes the schema parameter out of it, and
// returns the pool configuration and the schema that opts and it name.
func poolConfig(connString string, opts *Options) (*pgxpool.Config, string, error) {
	cfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		return nil, "", fmt.Errorf("postgres: %w", err)
	}
	schema := cfg.ConnConfig.RuntimeParams[schemaParam]
	delete(cfg.ConnConfig.RuntimeParams, schemaParam)
	if opts.Schema != "" {
		schema = opts.Schema
	}
	if schema == "" {
		schema = DefaultSchema
	}
	if err := ValidSchema(schema); err != nil {
		return nil, "", err
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = max(opts.MaxConns, 2)
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "sealog"
	}
	return cfg, schema, nil
}
