package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// benchURLResult is what 'bench --url' prints with --json.
type benchURLResult struct {
	EventsPerSec   float64 `json:"events_per_s"`
	RequestsPerSec float64 `json:"requests_per_s"`
	P50ms          float64 `json:"p50_ms"`
	P99ms          float64 `json:"p99_ms"`
	N              int     `json:"n"`
	Batch          int     `json:"batch"`
	Concurrency    int     `json:"concurrency"`
	Idempotency    bool    `json:"idempotency"`
	Errors         int64   `json:"errors"`
	CPUs           int     `json:"cpus"`
}

// benchURL loads a running 'sealog serve' at url: conc connections, each
// posting batch events per request until n events were acknowledged.
// Receipts are read (the server computes them with their proofs) but not
// checked: that is the client package's cost, measured elsewhere. The
// requests go through benchConn, a client cheap enough that the figures
// are the server's.
func benchURL(e *env, url, token string, n, conc, batch int, idem, asJSON bool) error {
	target, err := parseBenchURL(strings.TrimRight(url, "/"))
	if err != nil {
		return usageError("bench: %v", err)
	}
	payloads := benchPayloads(1024)
	bodies := make([][]byte, 64)
	for i := range bodies {
		var b bytes.Buffer
		if batch > 1 {
			b.WriteByte('[')
		}
		for j := range batch {
			if j > 0 {
				b.WriteByte(',')
			}
			ev := payloads[(i*batch+j)%len(payloads)]
			fmt.Fprintf(&b, `{"kind":%q,"actor":%q,"resource":%q,"payload":%s}`, ev.Kind, ev.Actor, ev.Resource, ev.Payload)
		}
		if batch > 1 {
			b.WriteByte(']')
		}
		bodies[i] = b.Bytes()
	}
	heads := make([][]byte, len(bodies))
	for i := range heads {
		heads[i] = target.appendRequest(token, bodies[i])
	}
	requests := (n + batch - 1) / batch
	if !asJSON {
		fmt.Fprintf(e.stderr, "posting %d requests of %d events to %s over %d connections ...\n", requests, batch, url, conc)
	}
	var next, errs atomic.Int64
	var firstErr atomic.Value
	lat := make([][]time.Duration, conc)
	var wg sync.WaitGroup
	start := time.Now()
	for g := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &benchConn{addr: target.addr, tlsConf: target.tlsConf}
			defer c.close()
			var key [32]byte
			for e.ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= requests {
					return
				}
				t0 := time.Now()
				k := ""
				if idem {
					var r [16]byte
					rand.Read(r[:])
					hex.Encode(key[:], r[:])
					k = string(key[:])
				}
				code, err := c.post(e.ctx, heads[i%len(heads)], k, bodies[i%len(bodies)])
				if err == nil && code != 200 {
					err = fmt.Errorf("HTTP %d", code)
				}
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err)
					if errs.Load() > 100 {
						return
					}
					continue
				}
				lat[g] = append(lat[g], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	dur := time.Since(start)
	all := slices.Concat(lat...)
	if len(all) == 0 {
		err, _ := firstErr.Load().(error)
		return ioError("no request succeeded: %v", err).withHint("check --url and --token (a token with the append role)")
	}
	slices.Sort(all)
	pct := func(p float64) float64 { return float64(all[int(float64(len(all)-1)*p)].Microseconds()) / 1000 }
	res := benchURLResult{
		EventsPerSec: float64(len(all)*batch) / dur.Seconds(), RequestsPerSec: float64(len(all)) / dur.Seconds(),
		P50ms: pct(0.5), P99ms: pct(0.99), N: len(all) * batch, Batch: batch, Concurrency: conc, Idempotency: idem,
		Errors: errs.Load(), CPUs: runtime.NumCPU(),
	}
	if asJSON {
		return writeJSON(e.stdout, res)
	}
	fmt.Fprintf(e.stdout, "append:  %10.0f events/s  (%.0f requests/s of %d events, %d connections, idempotency keys %v; latency p50 %.2f ms, p99 %.2f ms)\n",
		res.EventsPerSec, res.RequestsPerSec, batch, conc, idem, res.P50ms, res.P99ms)
	if res.Errors > 0 {
		fmt.Fprintf(e.stdout, "errors:  %d (first: %v)\n", res.Errors, firstErr.Load())
	}
	return nil
}
