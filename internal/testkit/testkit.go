// Package testkit is the shared, deterministic scaffolding of sealog's
// tests: seeded keys, clocks and salts, a logger that writes to t.Log,
// deadlines, polling instead of fixed sleeps, and one re-exec helper for
// tests that run themselves as child processes (crash tests, multi-process
// writers). It imports no sealog package but the format's, so every test
// package, the root one included, can use it.
package testkit

import (
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// Origin is the origin of the test logs' keys.
const Origin = "test.example/log"

// Rand returns a deterministic byte stream for seed: SHA-256 of the seed
// and a counter. It is safe for concurrent use.
func Rand(seed string) io.Reader { return &stream{seed: seed} }

type stream struct {
	mu   sync.Mutex
	seed string
	n    uint64
	buf  []byte
}

func (r *stream) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.buf) < len(p) {
		h := sha256.Sum256(fmt.Appendf(nil, "%s %d", r.seed, r.n))
		r.n++
		r.buf = append(r.buf, h[:]...)
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// Keys returns a deterministic signer and verifier key pair for origin,
// derived from seed.
func Keys(seed, origin string) (skey, vkey string) {
	skey, vkey, err := note.GenerateKey(Rand("key "+seed), origin)
	if err != nil {
		panic(err)
	}
	return skey, vkey
}

// Start is the time test clocks start at: 2026-11-21T09:00:00Z.
var Start = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

// Clock returns a clock that starts at Start and advances by step at each
// reading. It is safe for concurrent use.
func Clock(step time.Duration) func() time.Time {
	var mu sync.Mutex
	t := Start
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(step)
		return t
	}
}

// Logger routes a library's log to t.Log, at debug level.
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// Eventually calls cond every few milliseconds until it returns true, and
// fails the test if it has not by the deadline. Tests use it instead of
// sleeping a fixed time for something asynchronous.
func Eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
