package compat

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Benchmarks verify generated logs of realistic size and report records/s:
//
//	go test -run '^$' -bench . -benchmem ./compat/...

const benchRecords = 200_000

func benchWrite(b *testing.B, path string, gen func(w *bufio.Writer)) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	gen(w)
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

func benchVerify(b *testing.B, f Format, path string, opts Options, n int) {
	fi, _ := os.Stat(path)
	if fi != nil && !fi.IsDir() {
		b.SetBytes(fi.Size())
	}
	b.ResetTimer()
	for b.Loop() {
		r, err := Verify(context.Background(), f, path, opts)
		if err != nil || !r.Valid || r.Records != n {
			b.Fatalf("err=%v valid=%v records=%d reason=%s", err, r != nil && r.Valid, r.Records, r.Reason)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkSpanforgeVerify(b *testing.B) {
	path := filepath.Join(b.TempDir(), "audit.jsonl")
	g := newSFGen(b)
	benchWrite(b, path, func(w *bufio.Writer) {
		for i := 0; i < benchRecords; i++ {
			e := g.next("llm.trace.span.completed", fmt.Sprintf(
				`{"completion_tokens":%d,"latency_ms":%d.5,"model":"gpt-4o","prompt_tokens":812,"temperature":0.1,"excerpt":"mail me at café@example.com","score":1e-07}`, i%977, i%5000))
			e.Extra = `"org_id":"org-acme","span_id":"598b88dbaa99e079","tags":{"env":"prod","region":"eu-west-1"},"trace_id":"87751d4ca8501e2c44dcda6a797d76de"`
			w.WriteString(e.line(b))
		}
	})
	benchVerify(b, Spanforge, path, sfOpts(sfSecret), benchRecords)
}

func BenchmarkImmutableVerify(b *testing.B) {
	path := filepath.Join(b.TempDir(), "app.log")
	var lines []string
	for i := 0; i < benchRecords; i++ {
		lines = append(lines, fmt.Sprintf("2026-03-02T11:%02d:%02d.%03d [INFO] billing.api: user u-%d logged in from 192.0.2.%d session=%08x", i/60%60, i%60, i%1000, i%5000, i%250, i*7919))
	}
	benchWrite(b, path, func(w *bufio.Writer) { w.WriteString(strings.Join(lines, "\n") + "\n") })
	benchWrite(b, path+sidecarSuffix, func(w *bufio.Writer) { w.WriteString(ilSidecar(lines)) })
	benchVerify(b, ImmutableLogging, path, Options{}, benchRecords)
}

func BenchmarkSpineVerify(b *testing.B) {
	const n = 20_000 // Ed25519 verification bounds Spine at tens of thousands of records/s
	dir := b.TempDir()
	g := newSpineGen(b)
	benchWrite(b, filepath.Join(dir, "segment_20260302_090003.jsonl"), func(w *bufio.Writer) {
		for i := 0; i < n; i++ {
			r := g.next(fmt.Sprintf(`{"event_type": "data.export", "format": "csv", "rows": %d, "user": "cafe\u0301", "bytes": 18446744073709551616}`, i), "kid_a")
			w.WriteString(r.line())
		}
	})
	benchVerify(b, Spine, dir, Options{Trust: g.trust("kid_a")}, n)
}
