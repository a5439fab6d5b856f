package testkit

import (
	"os"
	"path/filepath"
	"testing"
)

// The tests that restart the machine's PostgreSQL server take this lock
// exclusively; tests in other packages that use the server take it shared,
// so that `go test ./...`, which runs packages in parallel, never restarts
// the server under another package's test.
var pgLockPath = filepath.Join(os.TempDir(), "sealog-test-postgres.lock")

// PostgresShared holds the PostgreSQL test lock shared until t ends.
func PostgresShared(t testing.TB) { pgLock(t, false) }

// PostgresExclusive holds the PostgreSQL test lock exclusively until t
// ends: no other package's test uses the server meanwhile.
func PostgresExclusive(t testing.TB) { pgLock(t, true) }

func pgLock(t testing.TB, exclusive bool) {
	t.Helper()
	f, err := os.OpenFile(pgLockPath, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		t.Fatalf("opening the PostgreSQL test lock: %v", err)
	}
	if err := flock(f, exclusive); err != nil {
		f.Close()
		t.Fatalf("taking the PostgreSQL test lock: %v", err)
	}
	t.Cleanup(func() { f.Close() })
}
