package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sealog/sealog"
)

// TestPerf measures the built binary: 'sealog verify' on a log of
// $SEALOG_PERF_N entries (default 1,000,000; entries/s and peak RSS, also
// on a log a tenth the size to show that memory stays flat) and 'sealog
// append' of 200,000 events from stdin. It runs only with SEALOG_PERF=1:
//
//	SEALOG_PERF=1 go test ./cmd/sealog -run TestPerf -v -timeout 30m
func TestPerf(t *testing.T) {
	if os.Getenv("SEALOG_PERF") == "" {
		t.Skip("set SEALOG_PERF=1 to measure")
	}
	n := 1_000_000
	if s := os.Getenv("SEALOG_PERF_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "sealog")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	skey, vkey, _ := sealog.GenerateKey("perf.sealog.example/audit")
	key, _ := sealog.ParseKey(skey)
	pub := filepath.Join(dir, "log.pub")
	os.WriteFile(pub, []byte(vkey+"\n"), 0o644)
	evs := benchPayloads(1000)
	for _, size := range []int{n / 10, n} {
		logDir := filepath.Join(dir, fmt.Sprintf("log%d", size))
		l, err := sealog.Open(logDir, sealog.Options{Key: key})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		for i := 0; i < size; i += 1000 {
			if _, err := l.AppendBatch(context.Background(), evs[:min(1000, size-i)]); err != nil {
				t.Fatal(err)
			}
		}
		l.Close()
		t.Logf("made a log of %d entries in %v", size, time.Since(start).Round(time.Millisecond))
		for round := range 3 {
			cmd := exec.Command(bin, "verify", logDir, "--key", pub, "-q")
			start := time.Now()
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("verify: %v\n%s", err, out)
			}
			d := time.Since(start)
			rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss
			t.Logf("verify %d entries, round %d: %v, %.0f entries/s, peak RSS %d MiB", size, round+1, d.Round(time.Millisecond), float64(size)/d.Seconds(), rss/1024)
		}
	}

	// append: 200,000 events from stdin.
	in := filepath.Join(dir, "events.jsonl")
	f, _ := os.Create(in)
	w := bufio.NewWriter(f)
	for i := range 200_000 {
		ev := evs[i%len(evs)]
		fmt.Fprintf(w, `{"kind":%q,"actor":%q,"resource":%q,"payload":%s}`+"\n", ev.Kind, ev.Actor, ev.Resource, ev.Payload)
	}
	w.Flush()
	f.Close()
	for round := range 3 {
		logDir := filepath.Join(dir, fmt.Sprintf("append%d", round))
		kf := filepath.Join(dir, "k")
		os.WriteFile(kf, []byte(skey+"\n"), 0o600)
		if out, err := exec.Command(bin, "init", logDir, "--key", kf).CombinedOutput(); err != nil {
			t.Fatalf("init: %v\n%s", err, out)
		}
		stdin, _ := os.Open(in)
		stdout, _ := os.Create(filepath.Join(dir, "receipts.jsonl"))
		cmd := exec.Command(bin, "append", logDir, "--key", kf)
		var stderr strings.Builder
		cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, &stderr
		start := time.Now()
		if err := cmd.Run(); err != nil {
			t.Fatalf("append: %v\n%s", err, stderr.String())
		}
		d := time.Since(start)
		stdin.Close()
		stdout.Close()
		rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss
		t.Logf("append 200000 events from stdin, round %d: %v, %.0f entries/s, peak RSS %d MiB", round+1, d.Round(time.Millisecond), 200000/d.Seconds(), rss/1024)
	}
}
