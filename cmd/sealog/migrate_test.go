package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestMigrate: a database log whose schema is older than this sealog's
// (made here by taking the newest migrations back out in SQL) is refused
// by every command with a hint to migrate; 'sealog migrate' brings it up
// to date without touching its entries, after which it verifies and takes
// appends; a second migrate says there was nothing to do; a directory is
// refused.
func TestMigrate(t *testing.T) {
	for _, be := range databaseLogs {
		t.Run(be.name, func(t *testing.T) {
			dir := t.TempDir()
			key := filepath.Join(dir, "log.key")
			if code, _, stderr := runCLI(t, nil, "keygen", "-o", key, "--name", "migrate.example/log"); code != 0 {
				t.Fatal(stderr)
			}
			url, connect := be.make(t)
			if code, _, stderr := runCLI(t, nil, "init", url, "--key", key); code != 0 {
				t.Fatal(stderr)
			}
			for i := range 3 {
				if code, _, stderr := runCLI(t, nil, "append", url, "--key", key, `{"kind":"doc.read","actor":"alice","resource":"doc/`+string(rune('a'+i))+`"}`); code != 0 {
					t.Fatal(stderr)
				}
			}
			db := connect()
			downgrade(t, be.name, db)
			db.close()

			code, _, stderr := runCLI(t, nil, "verify", url, "--key", key+".pub")
			if code != 3 || !strings.Contains(stderr, "older than this sealog") || !strings.Contains(stderr, "sealog migrate "+url) {
				t.Fatalf("verify of an older schema: exit %d:\n%s\nwant exit 3 and a hint to run sealog migrate", code, stderr)
			}
			code, stdout, stderr := runCLI(t, nil, "migrate", url)
			if code != 0 || !strings.Contains(stdout, "migrated the schema from version") {
				t.Fatalf("migrate: exit %d:\n%s%s", code, stdout, stderr)
			}
			if code, stdout, stderr := runCLI(t, nil, "verify", url, "--key", key+".pub"); code != 0 || !strings.Contains(stdout, "VALID") {
				t.Fatalf("verify after migrate: exit %d:\n%s%s", code, stdout, stderr)
			}
			if code, _, stderr := runCLI(t, nil, "append", url, "--key", key, `{"kind":"doc.read"}`); code != 0 {
				t.Fatalf("append after migrate: %s", stderr)
			}
			if code, stdout, stderr := runCLI(t, nil, "migrate", url, "--json"); code != 0 || !strings.Contains(stdout, `"from"`) {
				t.Fatalf("second migrate: exit %d:\n%s%s", code, stdout, stderr)
			} else if code, stdout, _ := runCLI(t, nil, "migrate", url); !strings.Contains(stdout, "already") || code != 0 {
				t.Fatalf("second migrate: %s", stdout)
			}
			if code, _, stderr := runCLI(t, nil, "migrate", dir); code != 2 || !strings.Contains(stderr, "names a directory, not a database") {
				t.Fatalf("migrate of a directory: exit %d: %s", code, stderr)
			}
		})
	}
}

// downgrade takes the log's schema back to its first version that had
// every table the first release had (PostgreSQL: 2, SQLite: 1): it drops
// every other table and forgets the later versions, as a database made by
// that release looks.
func downgrade(t *testing.T, backend string, db sqlTamperer) {
	t.Helper()
	keep := map[string]int{"postgres": 2, "sqlite": 1}[backend]
	tables := map[string]bool{"schema_version": true, "meta": true, "head": true, "entries": true, "batches": true, "idempotency": backend == "postgres"}
	for _, name := range db.tables(t) {
		if !tables[name] {
			db.exec(t, `DROP TABLE `+name)
		}
	}
	db.exec(t, `DELETE FROM schema_version WHERE version > $1`, keep)
}
