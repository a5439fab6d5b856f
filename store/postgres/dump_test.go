package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/store/postgres"
	"github.com/sealog/sealog/store/storetest"
)

// TestDumpLines: DumpLines hands over what the table holds, tampered or
// not — a changed line as changed, no line for a deleted row, a row past
// the head — where ReadLines refuses a log with a gap.
func TestDumpLines(t *testing.T) {
	d := dsn(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	meta := storetest.Metadata()
	schema := newSchema(t, d)
	s := open(t, d, schema, postgres.Options{Origin: meta.Origin, Key: meta.Key, PageSize: 3})
	defer s.Close()
	b := storetest.NewBuilder("w")
	batch := b.Batch(10)
	if _, err := s.Append(ctx, batch); err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSuffix(batch.Lines, []byte("\n")), []byte("\n"))
	if got := dump(t, ctx, s); !equal(got, lines) {
		t.Fatalf("DumpLines of an intact log gave %d lines, want the %d appended", len(got), len(lines))
	}

	entries := table(schema, "entries")
	changed := bytes.Replace(lines[2], []byte(`"i":2`), []byte(`"i":7`), 1)
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`UPDATE ` + entries + ` SET line = $1 WHERE seq = 2`, []any{changed}},
		{`DELETE FROM ` + entries + ` WHERE seq = 4`, nil},
		{`INSERT INTO ` + entries + ` (seq, time_ns, leaf, nodes, line) VALUES (10, 0, $1, '', $2)`, []any{make([]byte, 32), lines[9]}},
	} {
		if err := execSQL(ctx, d, q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
	want := [][]byte{lines[0], lines[1], changed, lines[3], lines[5], lines[6], lines[7], lines[8], lines[9], lines[9]}
	if got := dump(t, ctx, s); !equal(got, want) {
		t.Fatalf("DumpLines of the tampered log gave\n%s\nwant\n%s", bytes.Join(got, []byte("\n")), bytes.Join(want, []byte("\n")))
	}
	err := s.ReadLines(ctx, 0, 10, func(store.Line) error { return nil })
	if !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("ReadLines over a deleted row: %v, want ErrCorrupt", err)
	}
	if p, err := format.ParseLine(dump(t, ctx, s)[4]); err != nil || p.Seq != 5 {
		t.Fatalf("the dump's fifth line is entry %d, %v; want entry 5, after the gap", p.Seq, err)
	}
}

// dump returns the lines DumpLines gives, copied.
func dump(t *testing.T, ctx context.Context, s *postgres.Store) [][]byte {
	t.Helper()
	var out [][]byte
	if err := s.DumpLines(ctx, func(line []byte) error { out = append(out, bytes.Clone(line)); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func equal(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// TestCorruptLeafRefused: a leaf column that is not 32 bytes, or a nodes
// column that is not whole hashes (possible only once the table's CHECK
// constraints are dropped, outside sealog), is refused as corrupt by
// every read that returns it, never cut to a hash.
func TestCorruptLeafRefused(t *testing.T) {
	d := dsn(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	meta := storetest.Metadata()
	schema := newSchema(t, d)
	s := open(t, d, schema, postgres.Options{Origin: meta.Origin, Key: meta.Key})
	defer s.Close()
	if _, err := s.Append(ctx, storetest.NewBuilder("w").Batch(6)); err != nil {
		t.Fatal(err)
	}
	entries := table(schema, "entries")
	for _, q := range []string{
		`ALTER TABLE ` + entries + ` DROP CONSTRAINT entries_leaf_check`,
		`UPDATE ` + entries + ` SET leaf = leaf || '\x00'::bytea WHERE seq = 4`,
		`ALTER TABLE ` + entries + ` DROP CONSTRAINT entries_nodes_check`,
		`UPDATE ` + entries + ` SET nodes = nodes || '\x00'::bytea WHERE seq = 5`,
	} {
		if err := execSQL(ctx, d, q); err != nil {
			t.Fatal(err)
		}
	}
	if hs, err := s.ReadHashes(ctx, []int64{tlog.StoredHashIndex(0, 4)}); !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("ReadHashes of a 33-byte leaf = %x, %v; want ErrCorrupt", hs, err)
	}
	// Entry 5 stores the level-1 hash over entries 4 and 5: now 33 bytes.
	if hs, err := s.ReadHashes(ctx, []int64{tlog.StoredHashIndex(1, 2)}); !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("ReadHashes of 33 bytes of tree hashes = %x, %v; want ErrCorrupt", hs, err)
	}
	if l, err := s.ReadLine(ctx, 4); !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("ReadLine of a 33-byte leaf = %+v, %v; want ErrCorrupt", l, err)
	}
	if err := s.ReadLines(ctx, 0, 6, func(store.Line) error { return nil }); !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("ReadLines over a 33-byte leaf: %v; want ErrCorrupt", err)
	}
}
