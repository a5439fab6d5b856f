package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/store/sqlite"
)

// key rotate opens a store by URL: a SQLite log, rotated by the real
// binary, then appended to by the library with the new key.
func TestKeyRotateSQLiteURL(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	k0 := filepath.Join(dir, "k0.key")
	k1 := filepath.Join(dir, "k1.key")
	for _, k := range []string{k0, k1} {
		if out, err := runBinary(t, ctx, "keygen", "-o", k, "--name", testkit.Origin); err != nil {
			t.Fatalf("keygen: %v\n%s", err, out)
		}
	}
	key0, err := sealog.LoadKey(k0)
	if err != nil {
		t.Fatal(err)
	}
	key1, err := sealog.LoadKey(k1)
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "audit.db")
	st, err := sqlite.Open(db, sqlite.Options{Origin: testkit.Origin, Key: key0.VerifierKey()})
	if err != nil {
		t.Fatal(err)
	}
	l, err := sealog.New(ctx, st, sealog.Options{Key: key0})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(ctx, sealog.Event{Kind: "before"}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	out, err := runBinary(t, ctx, "key", "rotate", "sqlite://"+db, "--key", k0, "--new", k1)
	if err != nil || !strings.Contains(out, "entry 1 hands the log over") {
		t.Fatalf("key rotate: %v\n%s", err, out)
	}
	st, err = sqlite.Open(db, sqlite.Options{NoCreate: true})
	if err != nil {
		t.Fatal(err)
	}
	l, err = sealog.New(ctx, st, sealog.Options{Key: key1})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := l.Append(ctx, sealog.Event{Kind: "after"}); err != nil {
		t.Fatal(err)
	}
	if ks := l.Keys(); len(ks) != 2 || ks[1].VerifierKey != key1.VerifierKey() || ks[1].From != 3 {
		t.Fatalf("Keys = %+v", ks)
	}
}
