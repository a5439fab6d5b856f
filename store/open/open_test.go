package storeopen_test

import (
	"bufio"
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/store"
	storeopen "github.com/sealog/sealog/store/open"
	"github.com/sealog/sealog/store/storetest"
)

// pgURL returns a connection URL for a fresh schema on the test server
// (dropped when the test ends), or skips the test if the server cannot be
// reached — fails it when CI=true.
func pgURL(t *testing.T) string {
	u, _ := testkit.PostgresURL(t, "sealog_test_open")
	return u
}

// TestOpen opens a log of each kind by name: ErrNotLog before it exists
// and without Origin and Key, created with them, then reopened by the
// same name; Lines streams its lines.
func TestOpen(t *testing.T) {
	meta := storetest.Metadata()
	dir := t.TempDir()
	for _, c := range []struct {
		kind storeopen.Kind
		name func(t *testing.T) string
	}{
		{storeopen.File, func(t *testing.T) string { return filepath.Join(dir, "filelog") }},
		{storeopen.SQLite, func(t *testing.T) string { return "sqlite://" + filepath.Join(dir, "log.db") }},
		{storeopen.Postgres, pgURL},
	} {
		t.Run(string(c.kind), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			name := c.name(t)
			if loc, err := storeopen.Parse(name); err != nil || loc.Kind != c.kind {
				t.Fatalf("Parse(%s) = %+v, %v", name, loc, err)
			}
			if _, err := storeopen.Open(ctx, name, storeopen.Options{NoCreate: true}); !errors.Is(err, store.ErrNotLog) {
				t.Fatalf("Open before the log exists: %v, want ErrNotLog", err)
			}
			s, err := storeopen.Open(ctx, name, storeopen.Options{Origin: meta.Origin, Key: meta.Key})
			if err != nil {
				t.Fatal(err)
			}
			b := storetest.NewBuilder("w")
			batch := b.Batch(5)
			if _, err := s.Append(ctx, batch); err != nil {
				t.Fatal(err)
			}
			s.Close()
			s, err = storeopen.Open(ctx, name, storeopen.Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if m, err := s.Metadata(ctx); err != nil || m.Origin != meta.Origin || m.Key != meta.Key {
				t.Fatalf("Metadata = %+v, %v", m, err)
			}
			r := storeopen.Lines(ctx, s)
			sc := bufio.NewScanner(r)
			var got []byte
			for sc.Scan() {
				got = append(append(got, sc.Bytes()...), '\n')
			}
			if err := sc.Err(); err != nil {
				t.Fatal(err)
			}
			r.Close()
			if string(got) != string(batch.Lines) {
				t.Fatalf("Lines gave\n%s\nwant\n%s", got, batch.Lines)
			}
		})
	}
}

// TestLinesClose: closing the reader early stops the reading.
func TestLinesClose(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	meta := storetest.Metadata()
	s, err := storeopen.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "log.db"), storeopen.Options{Origin: meta.Origin, Key: meta.Key, SQLite: sqliteOptions()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b := storetest.NewBuilder("w")
	for range 10 {
		if _, err := s.Append(ctx, b.Batch(100)); err != nil {
			t.Fatal(err)
		}
	}
	r := storeopen.Lines(ctx, s)
	buf := make([]byte, 100)
	if _, err := r.Read(buf); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Read(buf); err == nil {
		t.Fatal("Read after Close succeeded")
	}
}
