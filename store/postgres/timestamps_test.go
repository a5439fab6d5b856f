package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/store/postgres"
	"github.com/sealog/sealog/store/storetest"
)

// beforeTimestamps is the schema version before 0003_timestamps.
const beforeTimestamps = 2

// TestTimestampsMigration: a log created by the sealog before the
// timestamps table (schema version 2) is refused by this one until it is
// migrated, keeps its entries, and then stores timestamps; the older
// sealog refuses the migrated schema as newer than it knows.
func TestTimestampsMigration(t *testing.T) {
	d := dsn(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	meta := storetest.Metadata()
	schema := newSchema(t, d)

	restore := postgres.AtVersion(beforeTimestamps)
	s := open(t, d, schema, postgres.Options{Origin: meta.Origin, Key: meta.Key})
	if _, ok := any(s).(store.Timestamps); !ok {
		t.Fatal("the Store does not implement store.Timestamps")
	}
	b := storetest.NewBuilder("w")
	if _, err := s.Append(ctx, b.Batch(3)); err != nil {
		t.Fatal(err)
	}
	// The old schema has no table to keep them in.
	if err := s.PutTimestamp(ctx, 3, []byte("tsr")); err == nil {
		t.Fatal("PutTimestamp on a schema without the timestamps table succeeded")
	}
	s.Close()
	restore()

	if _, err := postgres.Open(ctx, d, postgres.Options{Schema: schema}); !errors.Is(err, store.ErrSchema) || !strings.Contains(err.Error(), "older") {
		t.Fatalf("Open of a version %d schema without Migrate: %v, want ErrSchema, older", beforeTimestamps, err)
	}
	s = open(t, d, schema, postgres.Options{Migrate: true})
	if n := count(t, d, `SELECT max(version) FROM `+table(schema, "schema_version")); n != int64(postgres.SchemaVersion()) {
		t.Fatalf("after the migration the schema is at version %d, want %d", n, postgres.SchemaVersion())
	}
	if h, err := s.Head(ctx); err != nil || h.Size != 3 {
		t.Fatalf("the migrated log's head: %+v, %v", h, err)
	}
	if err := s.PutTimestamp(ctx, 3, []byte("tsr of 3")); err != nil {
		t.Fatalf("PutTimestamp after the migration: %v", err)
	}
	if err := s.PutTimestamp(ctx, 4, []byte("tsr of 4")); err == nil {
		t.Fatal("PutTimestamp past the head after the migration succeeded")
	}
	var got []byte
	if err := s.ReadTimestamps(ctx, func(n uint64, tsr []byte) error {
		if n != 3 {
			t.Errorf("a timestamp at size %d", n)
		}
		got = tsr
		return nil
	}); err != nil || !bytes.Equal(got, []byte("tsr of 3")) {
		t.Fatalf("ReadTimestamps after the migration: %q, %v", got, err)
	}
	s.Close()

	defer postgres.AtVersion(beforeTimestamps)()
	if _, err := postgres.Open(ctx, d, postgres.Options{Schema: schema, ReadOnly: true}); !errors.Is(err, store.ErrSchema) || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open of the migrated schema by the older sealog: %v, want ErrSchema, newer", err)
	}
}

// TestTimestampsReadOnly: a read-only Store reads the timestamps and
// refuses to store one.
func TestTimestampsReadOnly(t *testing.T) {
	d := dsn(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	meta := storetest.Metadata()
	schema := newSchema(t, d)
	s := open(t, d, schema, postgres.Options{Origin: meta.Origin, Key: meta.Key})
	if _, err := s.Append(ctx, storetest.NewBuilder("w").Batch(2)); err != nil {
		t.Fatal(err)
	}
	if err := s.PutTimestamp(ctx, 2, []byte("tsr")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	ro := open(t, d, schema, postgres.Options{ReadOnly: true})
	defer ro.Close()
	if err := ro.PutTimestamp(ctx, 1, []byte("tsr")); !errors.Is(err, store.ErrReadOnly) {
		t.Errorf("PutTimestamp on a read-only Store: %v, want ErrReadOnly", err)
	}
	n := 0
	if err := ro.ReadTimestamps(ctx, func(uint64, []byte) error { n++; return nil }); err != nil || n != 1 {
		t.Errorf("ReadTimestamps on a read-only Store: %d, %v; want 1", n, err)
	}
}
