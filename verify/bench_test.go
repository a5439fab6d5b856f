package verify_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

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

// benchLog writes, once per process, a log of benchLogSize ~300-byte
// events (the anchors' workload) in batches of 1000.
func benchLog(b *testing.B) (string, string) {
	benchOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sealog-verify-bench-")
		if err != nil {
			b.Fatal(err)
		}
		benchDir, benchVKey = writeBenchShapedLog(b, filepath.Join(dir, "log"), benchLogSize())
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
