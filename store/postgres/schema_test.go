package postgres_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/store/postgres"
	"github.com/sealog/sealog/store/storetest"
)

func TestValidSchema(t *testing.T) {
	for _, c := range []struct {
		name string
		ok   bool
	}{
		{"sealog", true},
		{"audit_prod", true},
		{"_x1", true},
		{strings.Repeat("a", 63), true},
		{"", false},
		{strings.Repeat("a", 64), false},
		{"Audit", false},
		{"1audit", false},
		{"audit-prod", false},
		{"audit prod", false},
		{`audit"; DROP TABLE x; --`, false},
		{"pg_catalog", false},
		{"pg_audit", false},
		{"information_schema", false},
		{"audit.prod", false},
		{"ünï", false},
	} {
		if err := postgres.ValidSchema(c.name); (err == nil) != c.ok {
			t.Errorf("ValidSchema(%q) = %v, want ok %t", c.name, err, c.ok)
		}
	}
}

// TestOpenSchemaName: the schema comes from Options.Schema, else from the
// connection string's schema parameter (which is not sent to the server
// as a setting), else DefaultSchema; an invalid one is refused before
// connecting.
func TestOpenSchemaName(t *testing.T) {
	d := dsn(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	meta := storetest.Metadata()
	a, b := newSchema(t, d), newSchema(t, d)
	for _, c := range []struct {
		name, conn, opt, want string
	}{
		{"from the URL", withSchema(d, a), "", a},
		{"the option wins", withSchema(d, a), b, b},
		{"keyword=value settings", "host=127.0.0.1 port=5432 user=postgres dbname=test sslmode=disable schema=" + b, "", b},
	} {
		if strings.HasPrefix(c.conn, "host=") && d != defaultDSN {
			continue
		}
		s, err := postgres.Open(ctx, c.conn, postgres.Options{Schema: c.opt, Origin: meta.Origin, Key: meta.Key})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if s.Schema() != c.want {
			t.Errorf("%s: schema %s, want %s", c.name, s.Schema(), c.want)
		}
		s.Close()
	}
	for _, conn := range []string{withSchema(d, "Bad-Name"), withSchema(d, "pg_x")} {
		if _, err := postgres.Open(ctx, conn, postgres.Options{}); err == nil || !strings.Contains(err.Error(), "schema name") {
			t.Errorf("Open(%s): %v, want a refusal of the schema name", conn, err)
		}
	}
}

// TestOpenNotLog: a schema with no log is store.ErrNotLog unless Open may
// create it, and nothing is created.
func TestOpenNotLog(t *testing.T) {
	d := dsn(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	meta := storetest.Metadata()
	schema := newSchema(t, d)
	for _, c := range []struct {
		name string
		opts postgres.Options
	}{
		{"no origin or key", postgres.Options{}},
		{"no key", postgres.Options{Origin: meta.Origin}},
		{"NoCreate", postgres.Options{Origin: meta.Origin, Key: meta.Key, NoCreate: true}},
		{"ReadOnly", postgres.Options{Origin: meta.Origin, Key: meta.Key, ReadOnly: true}},
	} {
		c.opts.Schema = schema
		if _, err := postgres.Open(ctx, d, c.opts); !errors.Is(err, store.ErrNotLog) {
			t.Errorf("%s: Open of an empty schema: %v, want ErrNotLog", c.name, err)
		}
	}
	if n := count(t, d, `SELECT count(*) FROM pg_namespace WHERE nspname = $1`, schema); n != 0 {
		t.Fatalf("a refused Open created schema %s", schema)
	}
	// An existing schema without a log's tables is no log either.
	if err := execSQL(ctx, d, `CREATE SCHEMA `+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	if _, err := postgres.Open(ctx, d, postgres.Options{Schema: schema}); !errors.Is(err, store.ErrNotLog) {
		t.Errorf("Open of a schema without tables: %v, want ErrNotLog", err)
	}
	s := open(t, d, schema, postgres.Options{Origin: meta.Origin, Key: meta.Key})
	s.Close()
	s = open(t, d, schema, postgres.Options{})
	if m, _ := s.Metadata(ctx); m.Origin != meta.Origin || m.Key != meta.Key || m.Format != "sealog/v1" {
		t.Errorf("reopened log's metadata %+v", m)
	}
	s.Close()
	if _, err := postgres.Open(ctx, d, postgres.Options{Schema: schema, Key: "other+1234+key"}); err == nil {
		t.Error("Open with another log's key succeeded")
	}
}

// TestSchemaVersions: a schema newer than this sealog is refused, even
// read-only; an older one is refused unless Options.Migrate, which brings
// it up to date, after which it opens without it.
func TestSchemaVersions(t *testing.T) {
	d := dsn(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	meta := storetest.Metadata()
	create := postgres.Options{Origin: meta.Origin, Key: meta.Key}
	v1 := postgres.SchemaVersion()

	newer := newSchema(t, d)
	open(t, d, newer, create).Close()
	if err := execSQL(ctx, d, `INSERT INTO `+table(newer, "schema_version")+` (version, sealog) VALUES ($1, 'a later sealog')`, v1+1); err != nil {
		t.Fatal(err)
	}
	for _, ro := range []bool{false, true} {
		_, err := postgres.Open(ctx, d, postgres.Options{Schema: newer, ReadOnly: ro, Migrate: true})
		if !errors.Is(err, store.ErrSchema) || !strings.Contains(err.Error(), "newer") {
			t.Errorf("Open (read-only %t) of a schema at version %d: %v, want ErrSchema, newer", ro, v1+1, err)
		}
	}

	older := newSchema(t, d)
	s := open(t, d, older, create)
	w := storetest.NewBuilder("w")
	if _, err := s.Append(ctx, w.Batch(3)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	restore := postgres.AddMigration("0002_note", `ALTER TABLE entries ADD COLUMN note text;`)
	defer restore()
	for _, opts := range []postgres.Options{{}, {ReadOnly: true, Migrate: true}} {
		opts.Schema = older
		_, err := postgres.Open(ctx, d, opts)
		if !errors.Is(err, store.ErrSchema) || !strings.Contains(err.Error(), "older") {
			t.Errorf("Open %+v of a schema at version %d by a sealog at %d: %v, want ErrSchema, older", opts, v1, v1+1, err)
		}
	}
	s = open(t, d, older, postgres.Options{Migrate: true})
	s.Close()
	if n := count(t, d, `SELECT max(version) FROM `+table(older, "schema_version")); n != int64(v1+1) {
		t.Fatalf("after the migration the schema is at version %d, want %d", n, v1+1)
	}
	if n := count(t, d, `SELECT count(note) FROM `+table(older, "entries")); n != 0 {
		t.Fatalf("the migrated column holds %d values", n)
	}
	s = open(t, d, older, postgres.Options{})
	if h, err := s.Head(ctx); err != nil || h.Size != 3 {
		t.Fatalf("the migrated log's head: %+v, %v", h, err)
	}
	s.Close()
	restore()
	if _, err := postgres.Open(ctx, d, postgres.Options{Schema: older}); !errors.Is(err, store.ErrSchema) {
		t.Errorf("Open by the older sealog after the migration: %v, want ErrSchema", err)
	}
}

// TestConcurrentCreate: processes that create one log at once (here,
// goroutines with their own pools) all end up with the same log.
func TestConcurrentCreate(t *testing.T) {
	d := dsn(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	meta := storetest.Metadata()
	schema := newSchema(t, d)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := postgres.Open(ctx, d, postgres.Options{Schema: schema, Origin: meta.Origin, Key: meta.Key})
			if err == nil {
				err = s.Close()
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := count(t, d, `SELECT count(*) FROM `+table(schema, "meta")); n != 1 {
		t.Fatalf("%d metadata rows", n)
	}
}

// count runs a query that returns one number.
func count(t testing.TB, dsn, sql string, args ...any) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n *int64
	if err := conn.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	if n == nil {
		return 0
	}
	return *n
}

// checkTables fails the test unless the tables hold exactly a log of size
// entries: no row past the head (a half-written batch), none missing.
func checkTables(t testing.TB, dsn, schema string, size uint64) {
	t.Helper()
	for _, c := range []struct {
		sql  string
		want int64
	}{
		{`SELECT count(*) FROM ` + table(schema, "entries"), int64(size)},
		{`SELECT coalesce(max(seq) + 1, 0) FROM ` + table(schema, "entries"), int64(size)},
		{`SELECT size FROM ` + table(schema, "head"), int64(size)},
		{`SELECT coalesce(max(size), 0) FROM ` + table(schema, "batches"), int64(size)},
	} {
		if n := count(t, dsn, c.sql); n != c.want {
			t.Errorf("%s = %d, want %d", c.sql, n, c.want)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}
