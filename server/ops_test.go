package server

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/internal/testkit"
)

// TestOverloaded: when the log has too many appends pending
// (ErrOverloaded), appends get 503 with Retry-After and write nothing;
// every 200 is an entry.
func TestOverloaded(t *testing.T) {
	dir := t.TempDir()
	l, err := sealog.Open(filepath.Join(dir, "log"), sealog.Options{Key: testKey(t), MaxPending: 1, Rand: testkit.Rand("overload")})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ts := newTestServer(t, Config{})
	ts.stop()
	ts.log = l
	cfg := ts.cfg
	cfg.Log = l
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if ts.srv, err = New(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	ts.hs = newLoopback(ts.srv)
	ts.url = ts.hs.URL
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				code, h, _ := ts.do(call{method: "POST", path: "/v1/entries", token: ts.tokens[RoleAppend], body: `{"kind":"busy"}`})
				if code == 503 && h.Get("Retry-After") == "" {
					t.Error("a 503 without Retry-After")
				}
				mu.Lock()
				codes[code]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if codes[503] == 0 || codes[200]+codes[503] != 320 {
		t.Fatalf("answers %v: want some 503s and only 200s otherwise", codes)
	}
	if n := ts.size(); n != uint64(codes[200]) {
		t.Fatalf("%d entries for %d acknowledged appends", n, codes[200])
	}
}

// TestNotReadyWhenStoreFails: /readyz is 503 once the store does not
// answer (here: closed under the server).
func TestNotReadyWhenStoreFails(t *testing.T) {
	ts := newTestServer(t, Config{})
	if code, _, _ := ts.do(call{method: "GET", path: "/readyz"}); code != 200 {
		t.Fatalf("readyz: %d", code)
	}
	ts.log.Close()
	if code, h, b := ts.do(call{method: "GET", path: "/readyz"}); code != 503 || h.Get("Retry-After") == "" {
		t.Fatalf("readyz with the store closed: %d %s", code, b)
	}
	if code, _, _ := ts.do(call{method: "POST", path: "/v1/entries", token: ts.tokens[RoleAppend], body: `{"kind":"x"}`}); code != 503 {
		t.Errorf("an append with the store closed: %d", code)
	}
}
