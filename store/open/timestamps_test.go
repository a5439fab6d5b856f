package storeopen_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/internal/testtsa"
	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/store/memstore"
	storeopen "github.com/sealog/sealog/store/open"
	"github.com/sealog/sealog/store/storetest"
	"github.com/sealog/sealog/tsa"
	"github.com/sealog/sealog/tstoken"
	"github.com/sealog/sealog/verify"
)

// TestTimestampsOverDatabases: a Log over a SQLite or PostgreSQL store
// with Options.Timestamper stores a token after each batch, and the
// verifier, reading the database through Source, reports each range
// proven by the TSA.
func TestTimestampsOverDatabases(t *testing.T) {
	authority, err := testtsa.New(testtsa.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(authority)
	defer srv.Close()
	roots, err := tsa.ParseRoots(authority.CAPEM)
	if err != nil {
		t.Fatal(err)
	}
	c, err := tsa.New(tsa.Options{URL: srv.URL, Roots: roots})
	if err != nil {
		t.Fatal(err)
	}
	skey, vkey := testkit.Keys("timestamps", testkit.Origin)
	k, err := sealog.ParseKey(skey)
	if err != nil {
		t.Fatal(err)
	}
	for _, db := range []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "log.db") }},
		{"postgres", pgURL},
	} {
		t.Run(db.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			name := db.url(t)
			st, err := storeopen.Open(ctx, name, storeopen.Options{Origin: testkit.Origin, Key: vkey, Logger: testkit.Logger(t)})
			if err != nil {
				t.Fatal(err)
			}
			l, err := sealog.New(ctx, st, sealog.Options{Key: k, Logger: testkit.Logger(t), Clock: testkit.Clock(time.Millisecond),
				Rand: testkit.Rand(t.Name()), Timestamper: c})
			if err != nil {
				t.Fatal(err)
			}
			var size uint64
			for _, n := range []int{3, 5, 4} {
				evs := make([]sealog.Event, n)
				for i := range evs {
					evs[i] = sealog.Event{Kind: "doc.read", Actor: "alice", Payload: map[string]any{"i": i}}
				}
				if _, err := l.AppendBatch(ctx, evs); err != nil {
					t.Fatal(err)
				}
				size += uint64(n)
				want := size
				testkit.Eventually(t, 10*time.Second, "a timestamp for each batch", func() bool { return l.TimestampStatus().Size == want })
			}
			if err := l.Close(); err != nil { // and the store
				t.Fatal(err)
			}
			if st, err = storeopen.Open(ctx, name, storeopen.Options{ReadOnly: true}); err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			rep, err := verify.Verify(ctx, storeopen.Source(ctx, st, "entries"), verify.Options{Key: vkey, Timestamps: tstoken.Checker{Roots: roots}})
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Valid || len(rep.Timestamps) != 3 || rep.TimestampedTo != 12 || !rep.TimestampsChecked {
				t.Fatalf("valid %v, %d timestamps, to %d: %+v", rep.Valid, len(rep.Timestamps), rep.TimestampedTo, rep.Problems)
			}
			for i, want := range []struct{ from, size uint64 }{{0, 3}, {3, 8}, {8, 12}} {
				got := rep.Timestamps[i]
				if got.Status != "ok" || got.From != want.from || got.Size != want.size || got.TSA != "CN=sealog test TSA" || got.Time.IsZero() {
					t.Errorf("timestamp %d: %+v, want ok, entries %d to %d", i, got, want.from, want.size-1)
				}
			}
		})
	}
}

// TestSourceTimestampsReads: Source lists a store's timestamps and reads
// their bytes in one more pass, in ascending size; one read out of order
// is found by a scan of its own, and one removed between the passes
// cannot be read, with an error that says so.
func TestSourceTimestampsReads(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	mem := memstore.NewDB(storetest.Metadata()).Open()
	defer mem.Close()
	st := &dropping{Store: mem, Timestamps: mem, drop: map[uint64]bool{}}
	b := storetest.NewBuilder("w")
	if _, err := st.Append(ctx, b.Batch(100)); err != nil {
		t.Fatal(err)
	}
	tst := store.Timestamps(st)
	tsr := func(n uint64) []byte { return []byte{byte(n), 't', 's', 'r'} }
	for n := uint64(1); n <= 100; n++ {
		if err := tst.PutTimestamp(ctx, n, tsr(n)); err != nil {
			t.Fatal(err)
		}
	}
	ts, ok := storeopen.Source(ctx, st, "entries").(verify.TimestampSource)
	if !ok {
		t.Fatal("Source is not a verify.TimestampSource")
	}
	files, damage, err := ts.Timestamps()
	if err != nil || len(damage) != 0 || len(files) != 100 {
		t.Fatalf("Timestamps: %d files, %v, %v", len(files), damage, err)
	}
	check := func(i int) {
		t.Helper()
		got, err := files[i].Read()
		if err != nil || string(got) != string(tsr(files[i].Size)) || files[i].Size != uint64(i+1) {
			t.Fatalf("file %d (%s): %q, %v", i, files[i].Name, got, err)
		}
	}
	for i := range 50 {
		check(i)
	}
	check(10) // out of order: a scan of its own
	check(50) // and on with the pass
	// Removed meanwhile: size 53 is gone, 54 still reads.
	st.drop[53] = true
	check(51)
	if _, err := files[52].Read(); err == nil || !strings.Contains(err.Error(), "gone") {
		t.Fatalf("the timestamp removed between the passes: %v, want an error saying it is gone", err)
	}
	for i := 53; i < 100; i++ {
		check(i)
	}
}

// dropping is a store whose ReadTimestamps leaves out the sizes in drop,
// as if they were removed.
type dropping struct {
	store.Store
	store.Timestamps
	drop map[uint64]bool
}

func (d *dropping) ReadTimestamps(ctx context.Context, fn func(uint64, []byte) error) error {
	return d.Timestamps.ReadTimestamps(ctx, func(n uint64, b []byte) error {
		if d.drop[n] {
			return nil
		}
		return fn(n, b)
	})
}
