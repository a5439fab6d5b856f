package testkit

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresURL returns a postgres:// URL naming a fresh schema (prefix,
// the process id and a counter) on the test server
// ($SEALOG_TEST_POSTGRES, default the local server's database test),
// dropped when t ends. It holds the PostgreSQL test lock shared. When the
// server cannot be reached it skips t, or fails it when CI=true.
func PostgresURL(t testing.TB, prefix string) (url, schema string) {
	t.Helper()
	PostgresShared(t)
	d := os.Getenv("SEALOG_TEST_POSTGRES")
	if d == "" {
		d = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, d)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL at %s is unreachable and CI=true, so this test must run: %v", d, err)
		}
		t.Skipf("PostgreSQL at %s is unreachable: %v (with CI=true this fails)", d, err)
	}
	conn.Close(ctx)
	schema = fmt.Sprintf("%s_%d_%d", prefix, os.Getpid(), pgSchemas.Add(1))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, d)
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			t.Error(err)
		}
	})
	sep := "?"
	if strings.Contains(d, "?") {
		sep = "&"
	}
	return d + sep + "schema=" + schema, schema
}

var pgSchemas atomic.Int64
