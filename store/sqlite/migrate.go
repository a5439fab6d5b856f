package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"time"

	"github.com/sealog/sealog/internal/sqlschema"
	"github.com/sealog/sealog/store"
)

// migrationFiles holds the schema's migrations, NNNN_name.sql, applied in
// order; version N is the schema after file N.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations is the schema's history, from migrationFiles; tests replace
// it to stand for a later sealog.
var migrations = sqlschema.Load(migrationFiles, "migrations")

// SchemaVersion returns the schema version this sealog creates and
// expects.
func SchemaVersion() int { return migrations[len(migrations)-1].Version }

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
// sqlschema.ErrNeedsMigration if Migrate would bring it up to date, or an
// error wrapping store.ErrSchema.
func checkVersion(path string, v int, opts *Options) error {
	err := sqlschema.Check(path, v, SchemaVersion(), opts.Migrate && !opts.ReadOnly)
	if err == nil || err == sqlschema.ErrNeedsMigration {
		return err
	}
	return fmt.Errorf("sqlite: %w", err)
}

// migrate applies the migrations after version from, in tx (a write
// transaction).
func migrate(ctx context.Context, tx queryer, from int) error {
	for _, m := range migrations {
		if m.Version <= from {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version, applied, sealog) VALUES (?, ?, ?)`,
			m.Version, time.Now().UTC().Format(time.RFC3339), "sealog "+m.Name); err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
	}
	_, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA application_id = %d`, applicationID))
	return err
}
