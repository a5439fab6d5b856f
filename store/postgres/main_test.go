package postgres_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/store/postgres"
)

func TestMain(m *testing.M) {
	testkit.RunChild(map[string]func(string){"writer": writerChild})
	os.Exit(m.Run())
}

// defaultDSN is the test server: the PostgreSQL on this machine, database
// test, trust authentication. SEALOG_TEST_POSTGRES overrides it.
const defaultDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// dsn returns the test server's connection string, or skips the test
// when the server cannot be reached — fails it when CI=true, since CI
// must run it.
func dsn(t testing.TB) string {
	t.Helper()
	d := os.Getenv("SEALOG_TEST_POSTGRES")
	if d == "" {
		d = defaultDSN
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, d)
	if err == nil {
		err = conn.Ping(ctx)
		conn.Close(ctx)
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL at %s is unreachable and CI=true, so this test must run: %v\nhint: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start", d, err)
		}
		t.Skipf("PostgreSQL at %s is unreachable: %v (set SEALOG_TEST_POSTGRES to a server; with CI=true this fails)", d, err)
	}
	return d
}

var schemas atomic.Int64

// newSchema returns a fresh schema name for t, and drops the schema when
// the test ends.
func newSchema(t testing.TB, dsn string) string {
	t.Helper()
	h := sha256.Sum256([]byte(t.Name()))
	name := fmt.Sprintf("sealog_test_%d_%d_%s", os.Getpid(), schemas.Add(1), hex.EncodeToString(h[:4]))
	t.Cleanup(func() { dropSchema(t, dsn, name) })
	return name
}

// dropSchema drops schema name and everything in it.
func dropSchema(t testing.TB, dsn, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := execSQL(ctx, dsn, `DROP SCHEMA IF EXISTS `+pgx.Identifier{name}.Sanitize()+` CASCADE`); err != nil {
		t.Errorf("dropping schema %s: %v", name, err)
	}
}

// execSQL runs sql, with args, on a connection of its own.
func execSQL(ctx context.Context, dsn, sql string, args ...any) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql, args...)
	return err
}

// table returns the quoted, schema-qualified name of a table.
func table(schema, name string) string { return pgx.Identifier{schema, name}.Sanitize() }

// withSchema returns dsn with the schema parameter set.
func withSchema(dsn, schema string) string {
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "schema=" + schema
}

// open opens (creating) the log in schema with the options given, failing
// the test on error.
func open(t testing.TB, dsn, schema string, opts postgres.Options) *postgres.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts.Schema = schema
	if opts.Logger == nil {
		opts.Logger = testkit.Logger(t)
	}
	s, err := postgres.Open(ctx, dsn, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// nopLogger is a silent logger, for benchmarks.
func nopLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
