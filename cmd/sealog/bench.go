package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/verify"
)

var benchCmd = &command{
	name:    "bench",
	summary: "measure append and verify throughput on this machine",
	usage: `Usage: sealog bench [--dir D] [--n N] [--concurrency C] [--verify-n M] [--keep] [--json]
       sealog bench --url URL --token TOKEN [--n N] [--concurrency C] [--batch B]
                    [--idempotency] [--json]

Measures, on this machine and disk, durable append throughput (C goroutines
each appending one ~300-byte event at a time, each acknowledged only after
fsync, as an application would) and verify throughput (a full 'sealog
verify' of a log of M entries, filled in batches of 1000).

The log is made in a new temporary directory inside D (default: the
current directory, so that the disk measured is the one you run on; the
system's temporary directory if that is not writable), and removed after
unless --keep.

With --url, it loads a running 'sealog serve' instead: C connections each
posting B events per request to POST /v1/entries (the server answers
receipts with inclusion proofs), until N events are acknowledged; it prints
events/s, requests/s and latency p50/p99.

Flags:
    --url URL          the server to load (e.g. http://127.0.0.1:8080)
    --token TOKEN      a token with the append role (default $SEALOG_TOKEN)
    --batch B          events per request, with --url (default 1)
    --idempotency      send an Idempotency-Key with each request, with --url
    --dir D            where to make the temporary log
    --n N              events to append one at a time (default 20000)
    --concurrency C    appending goroutines (default 64)
    --verify-n M       entries in the log to verify (default 200000; at least N)
    --keep             keep the log and print where it is
    --json             print {"append_entries_per_s","verify_entries_per_s",
                       "append_p50_ms","append_p99_ms","n","concurrency",
                       "verify_n","bytes_per_entry","go","cpus","dir"}
`,
}

func init() { benchCmd.run = runBench }

// benchResult is what bench prints with --json.
type benchResult struct {
	AppendPerSec  float64 `json:"append_entries_per_s"`
	VerifyPerSec  float64 `json:"verify_entries_per_s"`
	AppendP50ms   float64 `json:"append_p50_ms"`
	AppendP99ms   float64 `json:"append_p99_ms"`
	N             int     `json:"n"`
	Concurrency   int     `json:"concurrency"`
	VerifyN       int     `json:"verify_n"`
	BytesPerEntry float64 `json:"bytes_per_entry"`
	Go            string  `json:"go"`
	CPUs          int     `json:"cpus"`
	Dir           string  `json:"dir"`
}

func runBench(e *env, args []string) error {
	c := benchCmd
	fl := newFlags(c)
	dir := fl.String("dir", "", "")
	n := fl.Int("n", 20000, "")
	conc := fl.Int("concurrency", 64, "")
	verifyN := fl.Int("verify-n", 200000, "")
	keep := fl.Bool("keep", false, "")
	asJSON := fl.Bool("json", false, "")
	url := fl.String("url", "", "")
	token := fl.String("token", "", "")
	batch := fl.Int("batch", 1, "")
	idem := fl.Bool("idempotency", false, "")
	pos, err := parseArgs(e, c, fl, args)
	if err != nil {
		return err
	}
	if err := wantArgs(c, pos, 0, 0, ""); err != nil {
		return err
	}
	if *n < 1 || *conc < 1 || *verifyN < 0 || *batch < 1 {
		return usageError("bench: --n, --concurrency and --batch must be at least 1")
	}
	if *url != "" {
		if *token == "" {
			*token = e.getenv("SEALOG_TOKEN")
		}
		return benchURL(e, *url, *token, *n, *conc, *batch, *idem, *asJSON)
	}
	*verifyN = max(*verifyN, *n)
	parent := *dir
	if parent == "" {
		parent = "."
		if f, err := os.CreateTemp(".", ".sealog-bench-probe"); err != nil {
			parent = os.TempDir()
		} else {
			f.Close()
			os.Remove(f.Name())
		}
	}
	tmp, err := os.MkdirTemp(parent, "sealog-bench-")
	if err != nil {
		return ioError("making a directory in %s: %v", parent, pathErr(err))
	}
	if !*keep {
		defer os.RemoveAll(tmp)
	}
	logDir := filepath.Join(tmp, "log")
	skey, _, err := sealog.GenerateKey("bench.sealog.example/audit")
	if err != nil {
		return err
	}
	key, _ := sealog.ParseKey(skey)
	l, err := sealog.Open(logDir, sealog.Options{Key: key, Logger: newLogger(e, false)})
	if err != nil {
		return ioError("%v", err)
	}
	payloads := benchPayloads(1024)
	if !*asJSON {
		fmt.Fprintf(e.stderr, "appending %d events, %d at a time, in %s ...\n", *n, *conc, logDir)
	}
	lat := make([][]time.Duration, *conc)
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Value
	start := time.Now()
	for g := range *conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= *n || e.ctx.Err() != nil {
					return
				}
				t0 := time.Now()
				_, err := l.Append(context.Background(), payloads[i%len(payloads)])
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				lat[g] = append(lat[g], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	appendDur := time.Since(start)
	if err, ok := firstErr.Load().(error); ok {
		l.Close()
		return ioError("appending: %v", err)
	}
	for filled := *n; filled < *verifyN && e.ctx.Err() == nil; {
		batch := make([]sealog.Event, min(1000, *verifyN-filled))
		for i := range batch {
			batch[i] = payloads[(filled+i)%len(payloads)]
		}
		if _, err := l.AppendBatch(context.Background(), batch); err != nil {
			l.Close()
			return ioError("filling the log: %v", err)
		}
		filled += len(batch)
	}
	if err := l.Close(); err != nil {
		return ioError("%v", err)
	}
	if e.ctx.Err() != nil {
		return ioError("interrupted")
	}
	if !*asJSON {
		fmt.Fprintf(e.stderr, "verifying %d entries ...\n", *verifyN)
	}
	vstart := time.Now()
	rep, err := verify.Verify(e.ctx, verify.Dir(logDir), verify.Options{})
	vdur := time.Since(vstart)
	if err != nil {
		return ioError("verifying: %v", err)
	}
	if !rep.Valid {
		return failError("the benchmark log does not verify: %v", rep.FirstProblem)
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	pct := func(p float64) float64 {
		return float64(all[int(float64(len(all)-1)*p)].Microseconds()) / 1000
	}
	res := benchResult{
		AppendPerSec: float64(*n) / appendDur.Seconds(), VerifyPerSec: float64(rep.Entries) / vdur.Seconds(),
		AppendP50ms: pct(0.50), AppendP99ms: pct(0.99), N: *n, Concurrency: *conc, VerifyN: int(rep.Entries),
		BytesPerEntry: float64(rep.Bytes) / float64(max(rep.Entries, 1)), Go: runtime.Version(), CPUs: runtime.NumCPU(), Dir: tmp,
	}
	if *asJSON {
		return writeJSON(e.stdout, res)
	}
	fmt.Fprintf(e.stdout, "append:  %10.0f entries/s  (%d events, %d concurrent appenders, fsync before each ack; latency p50 %.2f ms, p99 %.2f ms)\n",
		res.AppendPerSec, res.N, res.Concurrency, res.AppendP50ms, res.AppendP99ms)
	fmt.Fprintf(e.stdout, "verify:  %10.0f entries/s  (%d entries, %.0f bytes each on disk)\n", res.VerifyPerSec, res.VerifyN, res.BytesPerEntry)
	fmt.Fprintf(e.stdout, "machine: %d CPUs, %s\n", res.CPUs, res.Go)
	if *keep {
		fmt.Fprintf(e.stdout, "kept the log in %s\n", logDir)
	}
	return nil
}

// benchPayloads makes n realistic events of about 300 bytes encoded.
func benchPayloads(n int) []sealog.Event {
	evs := make([]sealog.Event, n)
	kinds := []string{"user.login", "document.read", "document.update", "role.grant", "data.export"}
	for i := range evs {
		p := map[string]any{
			"ip":         fmt.Sprintf("10.%d.%d.%d", i%200, (i/200)%250, i%250+1),
			"user_agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0",
			"request_id": fmt.Sprintf("req-%08x-%04x", i*2654435761, i%65536),
			"session":    fmt.Sprintf("s-%012x", i*40503),
			"mfa":        i%3 != 0,
			"bytes":      1000 + i*37%90000,
		}
		b, _ := json.Marshal(p)
		evs[i] = sealog.Event{
			Kind:     kinds[i%len(kinds)],
			Actor:    fmt.Sprintf("user%04d@example.com", i%5000),
			Resource: fmt.Sprintf("documents/%06d", i*7919%1000000),
			Payload:  json.RawMessage(b),
		}
	}
	return evs
}
