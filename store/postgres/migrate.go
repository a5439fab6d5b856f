package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

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
		// written on two branches at once are merged (0003 and 0004):
		// a schema's version is the number of the last file applied.
		if err != nil || v < 1 || len(ms) > 0 && v <= ms[len(ms)-1].version {
			panic(fmt.Sprintf("postgres: migration %s is not numbered after the one before", path))
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
// errNeedsMigration if Migrate would bring it up to date, or an error
// wrapping store.ErrSchema.
func checkVersion(schema string, v int, opts *Options) error {
	latest := SchemaVersion()
	switch {
	case v == latest:
		return nil
	case v > latest:
		return fmt.Errorf("postgres: %w", &store.SchemaError{Where: "schema " + schema, Found: v, Known: latest})
	case opts.Migrate && !opts.ReadOnly:
		return errNeedsMigration
	default:
		return fmt.Errorf("postgres: %w", &store.SchemaError{Where: "schema " + schema, Found: v, Known: latest})
	}
}

var errNeedsMigration = fmt.Errorf("migration needed")

// migrate applies the migrations after version from to the schema, in tx,
// which holds the schema's advisory lock.
func migrate(ctx context.Context, tx pgx.Tx, schema string, from int) error {
	if _, err := tx.Exec(ctx, `SET LOCAL search_path TO `+pgx.Identifier{schema}.Sanitize()); err != nil {
		return err
	}
	for _, m := range migrations {
		if m.version <= from {
			continue
		}
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_version (version, sealog) VALUES ($1, $2)`, m.version, "sealog "+m.name); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	_, err := tx.Exec(ctx, `SET LOCAL search_path TO DEFAULT`)
	return err
}
