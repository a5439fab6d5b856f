package sqlite_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/store/sqlite"
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
	skey, _ := testkit.Keys("sqlite bench", "bench.example/log")
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
// time and waiting for it, through one Log over the SQLite store, and the
// same through one Log over the file store (the embedded default), in the
// same run: compare their entries/s. Every commit is durable (fsync).
func BenchmarkAppend(b *testing.B) {
	k := benchKey(b)
	ctx := context.Background()
	for _, c := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("store=sqlite/appenders=%d", c), func(b *testing.B) {
			st, err := sqlite.Open(filepath.Join(b.TempDir(), "log.db"), sqlite.Options{Origin: k.Origin(), Key: k.VerifierKey()})
			if err != nil {
				b.Fatal(err)
			}
			l, err := sealog.New(ctx, st, sealog.Options{Key: k})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			runAppenders(b, c, l)
		})
		b.Run(fmt.Sprintf("store=file/appenders=%d", c), func(b *testing.B) {
			l, err := sealog.Open(filepath.Join(b.TempDir(), "log"), sealog.Options{Key: k})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			runAppenders(b, c, l)
		})
	}
}

// BenchmarkRatio appends the same 64-appender workload to a new SQLite
// log and a new file-store log, alternately, rounds times, so that both
// see the same machine, and reports each one's median entries/s and their
// ratio. Run it once: go test -run '^$' -bench Ratio -benchtime 1x.
func BenchmarkRatio(b *testing.B) {
	const rounds, entries, appenders = 5, 20000, 64
	k := benchKey(b)
	ctx := context.Background()
	var sq, fs []float64
	for round := range rounds {
		for _, kind := range []string{"sqlite", "file"} {
			var (
				l   *sealog.Log
				err error
			)
			if kind == "sqlite" {
				var st *sqlite.Store
				if st, err = sqlite.Open(filepath.Join(b.TempDir(), "log.db"), sqlite.Options{Origin: k.Origin(), Key: k.VerifierKey()}); err == nil {
					l, err = sealog.New(ctx, st, sealog.Options{Key: k})
				}
			} else {
				l, err = sealog.Open(filepath.Join(b.TempDir(), "log"), sealog.Options{Key: k})
			}
			if err != nil {
				b.Fatal(err)
			}
			rate := appendN(b, l, entries, appenders)
			l.Close()
			b.Logf("round %d: %s %.0f entries/s", round, kind, rate)
			if kind == "sqlite" {
				sq = append(sq, rate)
			} else {
				fs = append(fs, rate)
			}
		}
	}
	slices.Sort(sq)
	slices.Sort(fs)
	b.ReportMetric(sq[rounds/2], "sqlite-entries/s")
	b.ReportMetric(fs[rounds/2], "file-entries/s")
	b.ReportMetric(sq[rounds/2]/fs[rounds/2], "sqlite/file")
}

// appendN appends n events to l from c goroutines, one at a time each,
// and returns the entries/s.
func appendN(b testing.TB, l *sealog.Log, n, c int) float64 {
	ctx := context.Background()
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				if _, err := l.Append(ctx, benchEvent(uint64(i))); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return float64(n) / time.Since(start).Seconds()
}
