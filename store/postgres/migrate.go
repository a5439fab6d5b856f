package postgres

import (
	"context"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/sealog/sealog/internal/sqlschema"
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

// schemaVersion returns the schema's version, 0 if it holds no log (no
// schema_version table). tx holds the schema's advisory lock, if it is
// to change anything.
func schemaVersion(ctx context.Context, tx pgx.Tx, schema string) (int, error) {
	var exists bool
	err := tx.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, pgx.Identifier{schema, "schema_version"}.Sanitize()).Scan(&exists)
	if err != nil || !exists {
		return 0, err
	}
	var v int
	err = tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM `+pgx.Identifier{schema, "schema_version"}.Sanitize()).Scan(&v)
	return v, err
}

// checkVersion returns nil if a schema at version v may be used as it is,
// sqlschema.ErrNeedsMigration if Migrate would bring it up to date, or an
// error wrapping store.ErrSchema.
func checkVersion(schema string, v int, opts *Options) error {
	err := sqlschema.Check("schema "+schema, v, SchemaVersion(), opts.Migrate && !opts.ReadOnly)
	if err == nil || err == sqlschema.ErrNeedsMigration {
		return err
	}
	return fmt.Errorf("postgres: %w", err)
}

// migrate applies the migrations after version from to the schema, in tx,
// which holds the schema's advisory lock.
func migrate(ctx context.Context, tx pgx.Tx, schema string, from int) error {
	if _, err := tx.Exec(ctx, `SET LOCAL search_path TO `+pgx.Identifier{schema}.Sanitize()); err != nil {
		return err
	}
	for _, m := range migrations {
		if m.Version <= from {
			continue
		}
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_version (version, sealog) VALUES ($1, $2)`, m.Version, "sealog "+m.Name); err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
	}
	_, err := tx.Exec(ctx, `SET LOCAL search_path TO DEFAULT`)
	return err
}
