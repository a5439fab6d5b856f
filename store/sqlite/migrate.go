package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/sealog/sealog/store"
)

// migrationFiles holds the schema's migrations, NNNN_name.sql, applied in
// order; version N is the schema after file N.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one step of the schema's history.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations is the schema's history, from migrationFiles; tests replace
// it to stand for a later sealog.
var migrations = loadMigrations()

func loadMigrations() []migration {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		panic(err)
	}
	var ms []migration
	for _, path := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(path, "migrations/"), ".sql")
		num, _, _ := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		// Numbers increase; a number may be missing while migrations
		// written on two branches at once are merged (0002 and 0003):
		// a schema's version is the number of the last file applied.
		if err != nil || v < 1 || len(ms) > 0 && v <= ms[len(ms)-1].version {
			panic(fmt.Sprintf("sqlite: migration %s is not numbered after the one before", path))
		}
		b, err := migrationFiles.ReadFile(path)
		if err != nil {
			panic(err)
		}
		ms = append(ms, migration{version: v, name: name, sql: string(b)})
	}
	return ms
}

// SchemaVersion returns the schema version this sealog creates and
// expects.
func SchemaVersion() int { return migrations[len(migrations)-1].version }

// applicationID marks a SQLite file as a sealog log (PRAGMA
// application_id): "SLOG".
const applicationID = 0x534C4F47

// queryer is a connection or transaction that runs queries.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// schemaVersion returns the file's schema version: 0 if it holds no log
// (an empty database), an error wrapping store.ErrNotLog if it is a
// database of something else.
func schemaVersion(ctx context.Context, q queryer) (int, error) {
	var appID, tables int
	if err := q.QueryRowContext(ctx, `PRAGMA application_id`).Scan(&appID); err != nil {
		return 0, err
	}
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema`).Scan(&tables); err != nil {
		return 0, err
	}
	switch {
	case appID == 0 && tables == 0:
		return 0, nil
	case appID != applicationID:
		return 0, fmt.Errorf("a SQLite database of something else (application_id %#x, %d schema objects): %w", appID, tables, store.ErrNotLog)
	}
	var v int
	if err := q.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("reading the schema version: %w", err)
	}
	return v, nil
}

// checkVersion returns nil if a schema at version v may be used as it is,
// errNeedsMigration if Migrate would bring it up to date, or an error
// wrapping store.ErrSchema.
func checkVersion(path string, v int, opts *Options) error {
	latest := SchemaVersion()
	switch {
	case v == latest:
		return nil
	case v > latest:
		return fmt.Errorf("sqlite: %w", &store.SchemaError{Where: path, Found: v, Known: latest})
	case opts.Migrate && !opts.ReadOnly:
		return errNeedsMigration
	default:
		return fmt.Errorf("sqlite: %w", &store.SchemaError{Where: path, Found: v, Known: latest})
	}
}

var errNeedsMigration = fmt.Errorf("migration needed")

// migrate applies the migrations after version from, in tx (a write
// transaction).
func migrate(ctx context.Context, tx queryer, from int) error {
	for _, m := range migrations {
		if m.version <= from {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version, applied, sealog) VALUES (?, ?, ?)`,
			m.version, time.Now().UTC().Format(time.RFC3339), "sealog "+m.name); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	_, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA application_id = %d`, applicationID))
	return err
}
