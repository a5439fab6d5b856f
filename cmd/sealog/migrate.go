package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	storeopen "github.com/sealog/sealog/store/open"
	"github.com/sealog/sealog/store/postgres"
	"github.com/sealog/sealog/store/sqlite"
)

var migrateCmd = &command{
	name:    "migrate",
	summary: "bring a database log's schema up to this sealog's version",
	usage: `Usage: sealog migrate URL [--json]

Brings the schema of the database log at URL (postgres://…, sqlite://…)
up to the version this sealog knows, in one transaction, applying the
migrations it has not had (docs: store/postgres/README.md,
store/sqlite/README.md). Run it once, after upgrading sealog and when no
process of an older sealog still uses the log: an older sealog refuses a
newer schema. The log's entries are not touched. A schema already at this
version is left as it is; one newer than this sealog knows is an error.

A directory log has no schema to migrate.

Flags:
    --json   print {"log","from","to"}
`,
}

func init() { migrateCmd.run = runMigrate }

func runMigrate(e *env, args []string) error {
	c := migrateCmd
	fl := newFlags(c)
	asJSON := fl.Bool("json", false, "")
	pos, err := parseArgs(e, c, fl, args)
	if err != nil {
		return err
	}
	if err := wantArgs(c, pos, 1, 1, "URL (the database log)"); err != nil {
		return err
	}
	loc, isDB, err := databaseLog(pos[0])
	if err != nil {
		return err
	}
	if !isDB {
		return usageError("migrate: %s names a directory, not a database: only database logs have a schema to migrate", pos[0]).
			withHint("give the log's postgres:// or sqlite:// URL")
	}
	latest := postgres.SchemaVersion()
	if loc.Kind == storeopen.SQLite {
		latest = sqlite.SchemaVersion()
	}
	rec := &migrationRecorder{}
	octx, cancel := context.WithTimeout(e.ctx, openTimeout)
	st, err := storeopen.OpenLocation(octx, loc, storeopen.Options{NoCreate: true, Migrate: true, Logger: slog.New(rec)})
	cancel()
	if err != nil {
		return databaseError(loc, err)
	}
	if err := st.Close(); err != nil {
		return ioError("%s: %v", loc, err)
	}
	from := rec.from()
	if from == 0 {
		from = latest // nothing was applied: it was at this version already
	}
	if *asJSON {
		return writeJSON(e.stdout, map[string]any{"log": loc.String(), "from": from, "to": latest})
	}
	if from == latest {
		fmt.Fprintf(e.stdout, "%s: the schema is at version %d already, this sealog's\n", loc, latest)
		return nil
	}
	fmt.Fprintf(e.stdout, "%s: migrated the schema from version %d to %d\n", loc, from, latest)
	return nil
}

// migrationRecorder is a slog.Handler that keeps the "from" version of
// the store's "migrated the log's schema" record.
type migrationRecorder struct {
	mu sync.Mutex
	v  int64
}

func (r *migrationRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (r *migrationRecorder) Handle(_ context.Context, rec slog.Record) error {
	rec.Attrs(func(a slog.Attr) bool {
		if a.Key == "from" {
			r.mu.Lock()
			r.v = a.Value.Int64()
			r.mu.Unlock()
		}
		return true
	})
	return nil
}

func (r *migrationRecorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *migrationRecorder) WithGroup(string) slog.Handler      { return r }

func (r *migrationRecorder) from() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return int(r.v)
}
