package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestDatabaseLogErrors: a database named wrongly, missing, unreachable
// or signed by another key gets an error that says which, and a hint
// that says what to do.
func TestDatabaseLogErrors(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.key"), filepath.Join(dir, "b.key")
	for _, k := range []string{a, b} {
		if code, _, stderr := runCLI(t, nil, "keygen", "-o", k, "--name", "errors.example/"+filepath.Base(k)); code != 0 {
			t.Fatal(stderr)
		}
	}
	db := "sqlite://" + filepath.Join(dir, "audit.db")
	if code, _, stderr := runCLI(t, nil, "init", db, "--key", a); code != 0 {
		t.Fatal(stderr)
	}
	missing := "sqlite://" + filepath.Join(dir, "none.db")
	for _, tc := range []struct {
		args      []string
		code      int
		msg, hint string
	}{
		{[]string{"verify", "mysql://host/db"}, 2, `unknown kind of store "mysql"`, "postgres://USER@HOST/DB?schema=S"},
		{[]string{"show", missing, "0"}, 3, missing + " holds no sealog log", "sealog init " + missing},
		{[]string{"verify", "postgres://postgres@127.0.0.1:1/test?sslmode=disable"}, 3, "127.0.0.1:1", "database server is running"},
		{[]string{"append", db, "--key", b, `{"kind":"x"}`}, 3, "not by the key given", "the signer key this log is signed by now"},
		{[]string{"init", db, "--key", a}, 3, "already holds a sealog log", "append to it with 'sealog append " + db},
		{[]string{"export-dir", db, db}, 2, "names a database; the copy is written to a directory", "give a new directory"},
	} {
		code, _, stderr := runCLI(t, nil, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.msg) || !strings.Contains(stderr, "\nhint: ") || !strings.Contains(stderr, tc.hint) {
			t.Errorf("sealog %s: exit %d, said:\n%s\nwant exit %d, %q, hint %q", strings.Join(tc.args, " "), code, stderr, tc.code, tc.msg, tc.hint)
		}
	}
}
