package auditor_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sealog/sealog/internal/testkit"
)

var schemas atomic.Int64

// pgName returns the URL of a fresh schema on the test server (dropped at
// the end), or skips when the server is unreachable — fails when CI=true.
func pgName(t testing.TB) string {
	t.Helper()
	testkit.PostgresShared(t)
	base := os.Getenv("SEALOG_TEST_POSTGRES")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL at %s is unreachable and CI=true, so this test must run: %v", base, err)
		}
		t.Skipf("PostgreSQL at %s is unreachable: %v (with CI=true this fails)", base, err)
	}
	conn.Close(ctx)
	schema := fmt.Sprintf("auditor_%d_%d", os.Getpid(), schemas.Add(1))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close(ctx)
		c.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`)
	})
	return base + "&schema=" + schema
}
