package sealog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/store/file"
	"github.com/sealog/sealog/store/memstore"

	"golang.org/x/mod/sumdb/tlog"
)

// benchEvent is the shared workload of ../shared/anchors (internal/wl): a
// typical audit event with a ~300-byte payload.
func benchEvent(seq uint64) Event {
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
	return Event{Kind: kinds[seq%6], Actor: actors[seq%4], Resource: fmt.Sprintf("doc/%d", seq%1000), Payload: json.RawMessage(p)}
}

func benchEvents(n int) []Event {
	evs := make([]Event, n)
	for i := range evs {
		evs[i] = benchEvent(uint64(i))
	}
	return evs
}

// cpuTime returns the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkAppend measures durable appends (fsync before each
// acknowledgement) with 1, 16 and 64 concurrent appenders, each calling
// Append for one event at a time. It reports entries/s and the latency
// percentiles of single appends.
func BenchmarkAppend(b *testing.B) {
	for _, c := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("appenders=%d", c), func(b *testing.B) {
			evs := benchEvents(4096)
			l, err := Open(b.TempDir(), Options{Key: testKey(b)})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.SetBytes(int64(len(evs[0].Payload.(json.RawMessage))))
			b.ResetTimer()
			cpu0 := cpuTime()
			lat, el := testkit.RunCallers(b, c, func(_ int, i int64) error {
				_, err := l.Append(ctx, evs[i%int64(len(evs))])
				return err
			})
			b.ReportMetric(float64(b.N)/el.Seconds(), "entries/s")
			if st := l.Stats(); st.Batches > 0 {
				b.ReportMetric(float64(st.Entries)/float64(st.Batches), "entries/batch")
				b.ReportMetric(float64(st.StoreTime.Microseconds())/float64(st.Batches), "store-µs/batch")
				b.ReportMetric(float64(st.IdleTime.Microseconds())/float64(st.Batches), "idle-µs/batch")
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N)/1000, "cpu-µs/entry")
			reportLatency(b, lat)
			if err := l.Close(); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkAppendBatch measures durable appends of 1000 events per call
// (one write, one fsync, one signature each), the shape of immudb's
// 1,000-entry transactions in ../shared/anchors.
func BenchmarkAppendBatch(b *testing.B) {
	evs := benchEvents(1000)
	l, err := Open(b.TempDir(), Options{Key: testKey(b)})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	cpu0 := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		if _, err := l.AppendBatch(ctx, evs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(evs))/b.Elapsed().Seconds(), "entries/s")
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N*len(evs))/1000, "cpu-µs/entry")
}

var (
	bigOnce sync.Once
	bigLog  *Log
	bigDir  string
)

// bigBenchLog returns a log of 1M benchmark events (written once per
// process, in batches of 1000, segments compressed), left open.
func bigBenchLog(b *testing.B) *Log {
	bigOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sealog-bench-")
		if err != nil {
			b.Fatal(err)
		}
		bigDir = dir
		l, err := Open(filepath.Join(dir, "log"), Options{Key: testKey(b), File: file.Options{Compress: true}})
		if err != nil {
			b.Fatal(err)
		}
		evs := benchEvents(1000)
		for i := 0; i < 1000; i++ {
			if _, err := l.AppendBatch(context.Background(), evs); err != nil {
				b.Fatal(err)
			}
		}
		bigLog = l
	})
	return bigLog
}

// bigLogDir is the directory of the log bigBenchLog returns.
func bigLogDir() string { return filepath.Join(bigDir, "log") }

// BenchmarkInclusionProof produces and verifies the inclusion proof of a
// random entry in a 1M-entry log against its latest checkpoint.
func BenchmarkInclusionProof(b *testing.B) {
	l := bigBenchLog(b)
	c, err := l.Checkpoint(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	leaves := make([]tlog.Hash, 1024)
	seqs := make([]uint64, len(leaves))
	for i := range leaves {
		seqs[i] = uint64(i) * 977 % c.Size
		leaves[i] = tlog.RecordHash(nil)
		hs, _ := l.st.ReadHashes(context.Background(), []int64{tlog.StoredHashIndex(0, int64(seqs[i]))})
		leaves[i] = hs[0]
	}
	b.Run("produce", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if _, err := l.InclusionProof(context.Background(), seqs[i%len(seqs)], c.Size); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	proofs := make([]tlog.RecordProof, len(seqs))
	for i, s := range seqs {
		proofs[i], _ = l.InclusionProof(context.Background(), s, c.Size)
	}
	b.Run("verify", func(b *testing.B) {
		i := 0
		for b.Loop() {
			j := i % len(seqs)
			if err := tlog.CheckRecord(proofs[j], int64(c.Size), c.Root, int64(seqs[j]), leaves[j]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("produce+verify", func(b *testing.B) {
		i := 0
		for b.Loop() {
			j := i % len(seqs)
			p, err := l.InclusionProof(context.Background(), seqs[j], c.Size)
			if err != nil {
				b.Fatal(err)
			}
			if err := tlog.CheckRecord(p, int64(c.Size), c.Root, int64(seqs[j]), leaves[j]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// BenchmarkConsistencyProof produces and verifies a consistency proof
// between two sizes of a 1M-entry log.
func BenchmarkConsistencyProof(b *testing.B) {
	l := bigBenchLog(b)
	n := size(b, l)
	newRoot, _ := l.TreeHash(context.Background(), n)
	olds := []uint64{1, 1000, 123457, 500000, n - 1}
	oldRoots := make([]tlog.Hash, len(olds))
	for i, o := range olds {
		oldRoots[i], _ = l.TreeHash(context.Background(), o)
	}
	i := 0
	for b.Loop() {
		j := i % len(olds)
		p, err := l.ConsistencyProof(context.Background(), olds[j], n)
		if err != nil {
			b.Fatal(err)
		}
		if err := tlog.CheckTree(p, int64(n), newRoot, int64(olds[j]), oldRoots[j]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkDiskUsage reports the bytes on disk per entry of the 1M-entry
// log: segments before and after zstd compression, and the derived files.
func BenchmarkDiskUsage(b *testing.B) {
	l := bigBenchLog(b)
	for b.Loop() {
	}
	// Let the background compression finish.
	deadline := time.Now().Add(2 * time.Minute)
	var plain, zst, derived int64
	for {
		plain, zst, derived = 0, 0, 0
		filepath.Walk(bigLogDir(), func(p string, fi os.FileInfo, err error) error {
			if err != nil || fi.IsDir() {
				return nil
			}
			switch {
			case strings.HasSuffix(p, ".jsonl"):
				plain += fi.Size()
			case strings.HasSuffix(p, ".jsonl.zst"), strings.HasSuffix(p, ".zidx"):
				zst += fi.Size()
			case strings.HasSuffix(p, "hashes"), strings.HasSuffix(p, "index"):
				derived += fi.Size()
			}
			return nil
		})
		segs, _ := os.ReadDir(filepath.Join(bigLogDir(), "segments"))
		pending := 0
		for _, s := range segs {
			if strings.HasSuffix(s.Name(), ".jsonl") {
				pending++
			}
		}
		if pending <= 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	n := float64(size(b, l))
	// The uncompressed size of the compressed segments is what the index
	// says: every entry's line, on average the active segment's.
	active := float64(plain)
	rawPerEntry := benchLineBytes(b, l)
	b.ReportMetric(rawPerEntry, "line-B/entry")
	b.ReportMetric((float64(zst)+active)/n, "stored-B/entry")
	b.ReportMetric(float64(derived)/n, "derived-B/entry")
	b.ReportMetric(rawPerEntry*n/(float64(zst)+active), "compression-ratio")
}

// benchLineBytes is the mean line length of the first 10,000 entries.
func benchLineBytes(b *testing.B, l *Log) float64 {
	var total, n int
	for e, err := range l.Entries(context.Background(), 0, 10000) {
		if err != nil {
			b.Fatal(err)
		}
		total += len(e.Line) + 1
		n++
	}
	return float64(total) / float64(n)
}

// BenchmarkSharedStore runs two Logs appending to one shared in-memory
// store, as two servers on one database: 16 appenders each, one event at
// a time. It reports the combined entries/s and how often a batch lost
// the race and was re-sequenced (conflicts per batch).
func BenchmarkSharedStore(b *testing.B) {
	k := testKey(b)
	db := memstore.NewDB(store.Metadata{Format: "sealog/v1", Origin: k.Origin(), Key: k.VerifierKey()})
	ctx := context.Background()
	logs := make([]*Log, 2)
	for i := range logs {
		l, err := New(ctx, db.Open(), Options{Key: k})
		if err != nil {
			b.Fatal(err)
		}
		logs[i] = l
	}
	evs := benchEvents(1024)
	b.ResetTimer()
	start := time.Now()
	appendAll(b, evs, 16, logs...)
	el := time.Since(start)
	b.StopTimer()
	var batches, conflicts int64
	for _, l := range logs {
		st := l.Stats()
		batches += st.Batches
		conflicts += st.Conflicts
		l.Close()
	}
	b.ReportMetric(float64(b.N)/el.Seconds(), "entries/s")
	b.ReportMetric(float64(conflicts)/float64(batches), "conflicts/batch")
	b.ReportMetric(float64(b.N)/float64(batches), "entries/batch")
}

// BenchmarkEngine measures the engine's own cost: 64 callers appending
// one event at a time to one Log over the in-memory store, so that no
// disk is in the way. cpu-µs/entry is the process's CPU time per entry
// (callers, sequencer, committer, store and runtime together), the
// figure that bounds a 2-core machine however fast its disk.
func BenchmarkEngine(b *testing.B) {
	k := testKey(b)
	db := memstore.NewDB(store.Metadata{Format: "sealog/v1", Origin: k.Origin(), Key: k.VerifierKey()})
	ctx := context.Background()
	l, err := New(ctx, db.Open(), Options{Key: k})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	evs := benchEvents(1024)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	appendAll(b, evs, 64, l)
	b.StopTimer()
	st := l.Stats()
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N)/1000, "cpu-µs/entry")
	b.ReportMetric(float64(st.Entries)/float64(max(st.Batches, 1)), "entries/batch")
}

// appendAll runs callers goroutines on each of logs that append b.N of
// evs (round robin) in all, one at a time each, and returns when they are
// in.
func appendAll(b *testing.B, evs []Event, callers int, logs ...*Log) {
	ctx := context.Background()
	testkit.RunCallers(b, callers*len(logs), func(g int, i int64) error {
		_, err := logs[g%len(logs)].Append(ctx, evs[i%int64(len(evs))])
		return err
	})
}

// reportLatency reports the p50 and p99 of the latencies each appender
// recorded.
func reportLatency(b *testing.B, lat [][]time.Duration) {
	var all []time.Duration
	for _, x := range lat {
		all = append(all, x...)
	}
	if len(all) == 0 {
		return
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
}
