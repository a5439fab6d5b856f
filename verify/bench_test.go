package verify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/verify"
)

var (
	benchOnce sync.Once
	benchDir  string
	benchVKey string
)

// benchLogSize is the number of entries of the benchmark log (1M by
// default; SEALOG_BENCH_ENTRIES overrides).
func benchLogSize() int {
	var n int
	if _, err := fmt.Sscan(os.Getenv("SEALOG_BENCH_ENTRIES"), &n); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

// benchLog writes, once per process, a log of ~300-byte events (the
// anchors' workload) in batches of 1000.
func benchLog(b *testing.B) (string, string) {
	benchOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sealog-verify-bench-")
		if err != nil {
			b.Fatal(err)
		}
		skey, vkey, _ := sealog.GenerateKey("bench.example/audit")
		k, _ := sealog.ParseKey(skey)
		l, err := sealog.Open(filepath.Join(dir, "log"), sealog.Options{Key: k})
		if err != nil {
			b.Fatal(err)
		}
		n := benchLogSize()
		ua := "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0 " + strings.Repeat("x", 35)
		for i := 0; i < n; i += 1000 {
			evs := make([]sealog.Event, 0, 1000)
			for j := i; j < i+1000 && j < n; j++ {
				p, _ := json.Marshal(map[string]any{"ip": fmt.Sprintf("203.0.%d.%d", j/256%256, j%256), "method": "password",
					"session": fmt.Sprintf("%024x", j*7919), "success": j%7 != 0, "user_agent": ua})
				evs = append(evs, sealog.Event{Kind: "user.login", Actor: "alice@example.com", Payload: json.RawMessage(p)})
			}
			if _, err := l.AppendBatch(context.Background(), evs); err != nil {
				b.Fatal(err)
			}
		}
		if err := l.Close(); err != nil {
			b.Fatal(err)
		}
		benchDir, benchVKey = filepath.Join(dir, "log"), vkey
	})
	return benchDir, benchVKey
}

// BenchmarkVerify verifies the whole benchmark log per iteration and
// reports entries/s.
func BenchmarkVerify(b *testing.B) {
	dir, vkey := benchLog(b)
	b.ResetTimer()
	var entries uint64
	for b.Loop() {
		rep, err := verify.Verify(context.Background(), verify.Dir(dir), verify.Options{Key: vkey})
		if err != nil || !rep.Valid {
			b.Fatalf("%v %+v", err, rep)
		}
		entries += rep.Entries
		b.SetBytes(rep.Bytes)
	}
	b.ReportMetric(float64(entries)/b.Elapsed().Seconds(), "entries/s")
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(filepath.Dir(benchDir))
	}
	os.Exit(code)
}
