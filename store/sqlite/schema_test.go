package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/store/sqlite"
	"github.com/sealog/sealog/store/storetest"
)

// TestOpenNotLog: a file that holds no log is store.ErrNotLog unless Open
// may create the log, and a missing file is not created.
func TestOpenNotLog(t *testing.T) {
	dir := t.TempDir()
	meta := storetest.Metadata()
	create := sqlite.Options{Origin: meta.Origin, Key: meta.Key}
	missing := filepath.Join(dir, "missing.db")
	for _, c := range []struct {
		name string
		opts sqlite.Options
	}{
		{"no origin or key", sqlite.Options{}},
		{"no key", sqlite.Options{Origin: meta.Origin}},
		{"NoCreate", sqlite.Options{Origin: meta.Origin, Key: meta.Key, NoCreate: true}},
		{"ReadOnly", sqlite.Options{Origin: meta.Origin, Key: meta.Key, ReadOnly: true}},
	} {
		if _, err := sqlite.Open(missing, c.opts); !errors.Is(err, store.ErrNotLog) {
			t.Errorf("%s: Open of a missing file: %v, want ErrNotLog", c.name, err)
		}
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused Open created %s: %v", missing, err)
	}

	text := filepath.Join(dir, "text")
	os.WriteFile(text, []byte("not a database, but longer than a SQLite header would be: "+strings.Repeat("x", 200)), 0o644)
	other := filepath.Join(dir, "other.db")
	db, err := sql.Open("sqlite", other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE customers (id INTEGER PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, path := range []string{text, other, dir} {
		for _, opts := range []sqlite.Options{{}, create} {
			if _, err := sqlite.Open(path, opts); !errors.Is(err, store.ErrNotLog) {
				t.Errorf("Open(%s) (creating %t): %v, want ErrNotLog", filepath.Base(path), opts.Key != "", err)
			}
		}
	}

	empty := filepath.Join(dir, "empty.db")
	os.WriteFile(empty, nil, 0o644)
	if _, err := sqlite.Open(empty, sqlite.Options{}); !errors.Is(err, store.ErrNotLog) {
		t.Errorf("Open of an empty file: %v, want ErrNotLog", err)
	}
	s, err := sqlite.Open(empty, create)
	if err != nil {
		t.Fatalf("creating a log in an empty file: %v", err)
	}
	s.Close()
	s, err = sqlite.Open(empty, sqlite.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := s.Metadata(t.Context()); m.Origin != meta.Origin || m.Key != meta.Key || m.Format != "sealog/v1" {
		t.Errorf("the log's metadata %+v", m)
	}
	if _, err := s.Append(t.Context(), storetest.NewBuilder("w").Batch(1)); !errors.Is(err, store.ErrReadOnly) {
		t.Errorf("Append on a read-only store: %v, want ErrReadOnly", err)
	}
	s.Close()
	if _, err := sqlite.Open(empty, sqlite.Options{Key: "other+1234+key"}); err == nil {
		t.Error("Open with another log's key succeeded")
	}
}

// TestSchemaVersions: a schema newer than this sealog is refused, even
// read-only; an older one is refused unless Options.Migrate, which brings
// it up to date, after which it opens without it.
func TestSchemaVersions(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	meta := storetest.Metadata()
	create := sqlite.Options{Origin: meta.Origin, Key: meta.Key}
	v1 := sqlite.SchemaVersion()

	newer := filepath.Join(dir, "newer.db")
	mustOpen(t, newer, create).Close()
	execFile(t, newer, `INSERT INTO schema_version (version, applied, sealog) VALUES (?, 'now', 'a later sealog')`, v1+1)
	for _, ro := range []bool{false, true} {
		_, err := sqlite.Open(newer, sqlite.Options{ReadOnly: ro, Migrate: true})
		if !errors.Is(err, store.ErrSchema) || !strings.Contains(err.Error(), "newer") {
			t.Errorf("Open (read-only %t) of a schema at version %d: %v, want ErrSchema, newer", ro, v1+1, err)
		}
	}

	older := filepath.Join(dir, "older.db")
	s := mustOpen(t, older, create)
	if _, err := s.Append(ctx, storetest.NewBuilder("w").Batch(3)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	restore := sqlite.AddMigration("0002_note", `ALTER TABLE entries ADD COLUMN note TEXT;`)
	defer restore()
	for _, opts := range []sqlite.Options{{}, {ReadOnly: true, Migrate: true}} {
		_, err := sqlite.Open(older, opts)
		if !errors.Is(err, store.ErrSchema) || !strings.Contains(err.Error(), "older") {
			t.Errorf("Open %+v of a schema at version %d by a sealog at %d: %v, want ErrSchema, older", opts, v1, v1+1, err)
		}
	}
	mustOpen(t, older, sqlite.Options{Migrate: true}).Close()
	s = mustOpen(t, older, sqlite.Options{})
	if h, err := s.Head(ctx); err != nil || h.Size != 3 {
		t.Fatalf("the migrated log's head: %+v, %v", h, err)
	}
	s.Close()
	restore()
	if _, err := sqlite.Open(older, sqlite.Options{}); !errors.Is(err, store.ErrSchema) {
		t.Errorf("Open by the older sealog after the migration: %v, want ErrSchema", err)
	}
}

// TestConcurrentCreate: processes that create one log at once (here,
// goroutines with their own connections) all end up with the same log.
func TestConcurrentCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.db")
	meta := storetest.Metadata()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := sqlite.Open(path, sqlite.Options{Origin: meta.Origin, Key: meta.Key})
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
	if n := queryInt(t, path, `SELECT count(*) FROM meta`); n != 1 {
		t.Fatalf("%d metadata rows", n)
	}
}

// mustOpen opens the log at path or fails the test.
func mustOpen(t testing.TB, path string, opts sqlite.Options) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// execFile runs a statement on the file, as a user with a SQLite shell.
func execFile(t testing.TB, path, q string, args ...any) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// queryInt runs a query that returns one number.
func queryInt(t testing.TB, path, q string, args ...any) int64 {
	t.Helper()
	// A busy timeout, as any reader beside a writer needs: the last
	// connection of a closing Store checkpoints the WAL under a lock.
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n sql.NullInt64
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n.Int64
}
