package postgres_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/store/memstore"
	"github.com/sealog/sealog/store/postgres"
)

// benchEvent is the root package's benchmark workload: a typical audit
// event with a ~300-byte payload.
func benchEvent(seq uint64) sealog.Event {
	kinds := []string{"user.login", "user.logout", "doc.read", "doc.update", "role.grant", "key.rotate"}
	actors := []string{"alice@example.com", "bob@example.org", "svc-billing@corp.example", "carol.admin@example.net"}
	sess := sha256.Sum256(fmt.Appendf(nil, "%d", seq))
	ts := time.Date(2026, 11, 21, 8, 42, 13, 0, time.UTC).Add(time.Duration(seq) * 1731 * time.Microsecond)
	p, _ := json.Marshal(map[string]any{
		"ts":         ts.Format(time.RFC3339Nano),
		"ip":         fmt.Sprintf("203.0.%d.%d", (seq/256)%256, seq%256),
		"method":     "password",
		"session":    hex.EncodeToString(sess[:12]),
		"success":    seq%7 != 0,
		"user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0 " + strings.Repeat("x", 35),
	})
	return sealog.Event{Kind: kinds[seq%6], Actor: actors[seq%4], Resource: fmt.Sprintf("doc/%d", seq%1000), Payload: json.RawMessage(p)}
}

// benchKey is the benchmarks' signing key.
func benchKey(b testing.TB) *sealog.Key {
	skey, _ := testkit.Keys("postgres bench", "bench.example/log")
	k, err := sealog.ParseKey(skey)
	if err != nil {
		b.Fatal(err)
	}
	return k
}

// runAppenders runs c goroutines that append b.N events in all, one at a
// time each, to l, and reports entries/s, entries per batch and
// conflicts per batch.
func runAppenders(b *testing.B, c int, logs ...*sealog.Log) {
	evs := make([]sealog.Event, 1024)
	for i := range evs {
		evs[i] = benchEvent(uint64(i))
	}
	ctx := context.Background()
	b.ResetTimer()
	_, el := testkit.RunCallers(b, c*len(logs), func(g int, i int64) error {
		_, err := logs[g%len(logs)].Append(ctx, evs[i%int64(len(evs))])
		return err
	})
	var st sealog.Stats
	for _, l := range logs {
		s := l.Stats()
		st.Batches += s.Batches
		st.Entries += s.Entries
		st.Conflicts += s.Conflicts
		st.StoreTime += s.StoreTime
	}
	b.ReportMetric(float64(b.N)/el.Seconds(), "entries/s")
	if st.Batches > 0 {
		b.ReportMetric(float64(st.Entries)/float64(st.Batches), "entries/batch")
		b.ReportMetric(float64(st.Conflicts)/float64(st.Batches), "conflicts/batch")
		b.ReportMetric(float64(st.StoreTime.Microseconds())/float64(st.Batches), "store-µs/batch")
	}
}

// BenchmarkAppend: 64 concurrent appenders, each appending one event at a
// time and waiting for it, through one Log over PostgreSQL (every commit
// durable: synchronous_commit as the server has it, on by default).
func BenchmarkAppend(b *testing.B) {
	d := dsn(b)
	k := benchKey(b)
	for _, c := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("appenders=%d", c), func(b *testing.B) {
			st := open(b, d, newSchema(b, d), postgres.Options{Origin: k.Origin(), Key: k.VerifierKey(), Logger: nopLogger()})
			l, err := sealog.New(context.Background(), st, sealog.Options{Key: k})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			runAppenders(b, c, l)
		})
	}
}

// BenchmarkAppendShared: two Logs, each over its own Store (its own pool),
// append to one schema with 32 appenders each, as two servers sharing a
// database do; conflicts/batch is how often a batch lost the race.
func BenchmarkAppendShared(b *testing.B) {
	d := dsn(b)
	k := benchKey(b)
	schema := newSchema(b, d)
	var logs []*sealog.Log
	for range 2 {
		st := open(b, d, schema, postgres.Options{Origin: k.Origin(), Key: k.VerifierKey(), Logger: nopLogger()})
		l, err := sealog.New(context.Background(), st, sealog.Options{Key: k})
		if err != nil {
			b.Fatal(err)
		}
		defer l.Close()
		logs = append(logs, l)
	}
	runAppenders(b, 32, logs...)
}

// BenchmarkStoreAppend is BenchmarkAppend's ceiling on the database: the
// batches a Log makes (entries/batch of them, 48 by default, about what 64
// appenders gather), made beforehand on a memory store and then appended
// to PostgreSQL by Store.Append alone, one after the other, as the
// engine's committer does: no callers, no signing, no engine. Run it
// beside BenchmarkAppend and compare the two in the same run
// (docs/PERFORMANCE.md).
func BenchmarkStoreAppend(b *testing.B) {
	d := dsn(b)
	k := benchKey(b)
	per := 48
	batches := make([]*store.Batch, 0, b.N/per+1)
	mem := memstore.NewDB(store.Metadata{Format: "sealog/v1", Origin: k.Origin(), Key: k.VerifierKey(), Created: time.Unix(0, 0).UTC()})
	mem.FailAppend(func(bt *store.Batch) error {
		c := *bt
		c.Lines, c.Ends, c.Leaves = bytes.Clone(bt.Lines), slices.Clone(bt.Ends), slices.Clone(bt.Leaves)
		c.Hashes, c.Checkpoint = slices.Clone(bt.Hashes), bytes.Clone(bt.Checkpoint)
		batches = append(batches, &c)
		return nil
	})
	ctx := context.Background()
	l, err := sealog.New(ctx, mem.Open(), sealog.Options{Key: k})
	if err != nil {
		b.Fatal(err)
	}
	evs := make([]sealog.Event, per)
	for n := 0; n < b.N; n += per {
		for i := range evs {
			evs[i] = benchEvent(uint64(n + i))
		}
		if _, err := l.AppendBatch(ctx, evs); err != nil {
			b.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		b.Fatal(err)
	}
	st := open(b, d, newSchema(b, d), postgres.Options{Origin: k.Origin(), Key: k.VerifierKey(), Logger: nopLogger()})
	defer st.Close()
	b.ResetTimer()
	start := time.Now()
	for _, bt := range batches {
		if _, err := st.Append(ctx, bt); err != nil {
			b.Fatal(err)
		}
	}
	el := time.Since(start)
	b.StopTimer()
	entries := len(batches) * per
	b.ReportMetric(float64(entries)/el.Seconds(), "entries/s")
	b.ReportMetric(float64(el.Microseconds())/float64(len(batches)), "store-µs/batch")
}
