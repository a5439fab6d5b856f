package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sealog/sealog"
)

// The built binary, measured as a user runs it: 'sealog verify' on logs
// of $SEALOG_PERF_N entries (default 1,000,000) and a tenth of that
// (entries/s and peak RSS: memory stays flat), and 'sealog append' of
// 200,000 events from stdin:
//
//	go test ./cmd/sealog -run '^$' -bench Binary -benchtime 3x -timeout 30m

// perfBinary builds the sealog binary and a key pair in dir.
func perfBinary(b *testing.B, dir string) (bin, skey, pub string) {
	b.Helper()
	bin = filepath.Join(dir, "sealog")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	skey, vkey, err := sealog.GenerateKey("perf.sealog.example/audit")
	if err != nil {
		b.Fatal(err)
	}
	pub = filepath.Join(dir, "log.pub")
	if err := os.WriteFile(pub, []byte(vkey+"\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	return bin, skey, pub
}

func perfEntries() int {
	if n, err := strconv.Atoi(os.Getenv("SEALOG_PERF_N")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

// BenchmarkVerifyBinary runs 'sealog verify -q' once per iteration.
func BenchmarkVerifyBinary(b *testing.B) {
	dir := b.TempDir()
	bin, skey, pub := perfBinary(b, dir)
	key, err := sealog.ParseKey(skey)
	if err != nil {
		b.Fatal(err)
	}
	evs := benchPayloads(1000)
	n := perfEntries()
	for _, size := range []int{n / 10, n} {
		logDir := filepath.Join(dir, fmt.Sprintf("log%d", size))
		l, err := sealog.Open(logDir, sealog.Options{Key: key})
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < size; i += 1000 {
			if _, err := l.AppendBatch(context.Background(), evs[:min(1000, size-i)]); err != nil {
				b.Fatal(err)
			}
		}
		if err := l.Close(); err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("entries=%d", size), func(b *testing.B) {
			var rss int64
			var total time.Duration
			for b.Loop() {
				rssFile := filepath.Join(b.TempDir(), "rss")
				cmd := timedCommand(b, rssFile, bin, "verify", logDir, "--key", pub, "-q")
				start := time.Now()
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("verify: %v\n%s", err, out)
				}
				total += time.Since(start)
				rss = max(rss, peakKiB(b, rssFile))
			}
			b.ReportMetric(float64(size)*float64(b.N)/total.Seconds(), "entries/s")
			b.ReportMetric(float64(rss)/1024, "peak-RSS-MiB")
		})
	}
}

// BenchmarkAppendBinary runs 'sealog append' of 200,000 events from stdin
// into a new log once per iteration.
func BenchmarkAppendBinary(b *testing.B) {
	dir := b.TempDir()
	bin, skey, _ := perfBinary(b, dir)
	evs := benchPayloads(1000)
	in := filepath.Join(dir, "events.jsonl")
	f, err := os.Create(in)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	const events = 200_000
	for i := range events {
		ev := evs[i%len(evs)]
		fmt.Fprintf(w, `{"kind":%q,"actor":%q,"resource":%q,"payload":%s}`+"\n", ev.Kind, ev.Actor, ev.Resource, ev.Payload)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	kf := filepath.Join(dir, "k")
	if err := os.WriteFile(kf, []byte(skey+"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	var rss int64
	var total time.Duration
	round := 0
	for b.Loop() {
		logDir := filepath.Join(dir, fmt.Sprintf("append%d", round))
		round++
		if out, err := exec.Command(bin, "init", logDir, "--key", kf).CombinedOutput(); err != nil {
			b.Fatalf("init: %v\n%s", err, out)
		}
		stdin, err := os.Open(in)
		if err != nil {
			b.Fatal(err)
		}
		rssFile := filepath.Join(b.TempDir(), "rss")
		cmd := timedCommand(b, rssFile, bin, "append", logDir, "--key", kf)
		var stderr strings.Builder
		cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, io.Discard, &stderr
		start := time.Now()
		err = cmd.Run()
		total += time.Since(start)
		stdin.Close()
		if err != nil {
			b.Fatalf("append: %v\n%s", err, stderr.String())
		}
		rss = max(rss, peakKiB(b, rssFile))
	}
	b.ReportMetric(events*float64(b.N)/total.Seconds(), "entries/s")
	b.ReportMetric(float64(rss)/1024, "peak-RSS-MiB")
}

// timedCommand runs bin under GNU time, which writes the peak RSS of bin
// (KiB) to rssFile: the rusage of a child that os/exec starts with vfork
// counts this benchmark process's resident set as the child's.
func timedCommand(tb testing.TB, rssFile, bin string, args ...string) *exec.Cmd {
	const gnuTime = "/usr/bin/time"
	if _, err := os.Stat(gnuTime); err != nil {
		tb.Skipf("%s (GNU time, Debian package time) is needed to measure peak RSS: %v", gnuTime, err)
	}
	return exec.Command(gnuTime, append([]string{"-f", "%M", "-o", rssFile, bin}, args...)...)
}

// peakKiB reads what timedCommand's GNU time wrote.
func peakKiB(tb testing.TB, rssFile string) int64 {
	b, err := os.ReadFile(rssFile)
	if err != nil {
		tb.Fatal(err)
	}
	var kib int64
	if _, err := fmt.Sscan(strings.TrimSpace(string(b)), &kib); err != nil {
		tb.Fatalf("GNU time wrote %q: %v", b, err)
	}
	return kib
}
