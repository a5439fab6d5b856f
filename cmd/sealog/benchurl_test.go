package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestBenchConn holds the load tool's small HTTP client to each way a
// server may answer: it reads every answer whole (so that the next one
// on the connection parses), keeps the connection when it may and dials
// again when the server closed it, and sends the body and headers the
// server expects.
func TestBenchConn(t *testing.T) {
	var mu sync.Mutex
	conns := map[string]map[string]bool{} // path → remote addresses seen
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		prefix, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		mu.Lock()
		if conns[prefix] == nil {
			conns[prefix] = map[string]bool{}
		}
		conns[prefix][r.RemoteAddr] = true
		mu.Unlock()
		if r.Method != "POST" || r.URL.Path != "/"+prefix+"/v1/entries" || string(body) != `{"kind":"k"}` ||
			r.Header.Get("Authorization") != "Bearer tok" || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad request: "+r.Method+" "+r.URL.Path+" "+string(body), 400)
			return
		}
		if k := r.Header.Get("Idempotency-Key"); k != "key-1" {
			http.Error(w, "Idempotency-Key "+k, 400)
			return
		}
		big := strings.Repeat("receipt ", 20000) // more than one read buffer
		switch prefix {
		case "length":
			w.Header().Set("Content-Length", strconv.Itoa(len(big)))
			io.WriteString(w, big)
		case "chunked":
			io.WriteString(w, big)
			w.(http.Flusher).Flush()
			io.WriteString(w, "the end")
		case "close":
			w.Header().Set("Connection", "close")
			io.WriteString(w, "bye")
		case "busy":
			w.Header().Set("Retry-After", "1")
			http.Error(w, `{"error":"overloaded"}`, http.StatusServiceUnavailable)
		case "empty":
			w.WriteHeader(204)
		}
	}))
	defer hs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, c := range []struct {
		prefix string
		code   int
		conns  int
	}{{"length", 200, 1}, {"chunked", 200, 1}, {"close", 200, 3}, {"busy", 503, 1}, {"empty", 204, 1}} {
		target, err := parseBenchURL(hs.URL + "/" + c.prefix)
		if err != nil {
			t.Fatal(err)
		}
		body := []byte(`{"kind":"k"}`)
		head := target.appendRequest("tok", body)
		bc := &benchConn{addr: target.addr}
		for i := range 3 {
			code, err := bc.post(ctx, head, "key-1", body)
			if err != nil || code != c.code {
				t.Fatalf("%s, request %d: %d %v, want %d", c.prefix, i, code, err, c.code)
			}
		}
		bc.close()
		if n := len(conns[c.prefix]); n != c.conns {
			t.Errorf("%s: %d connections for 3 requests, want %d", c.prefix, n, c.conns)
		}
	}
	for _, u := range []string{"ftp://h/", "http://", "http://[::1"} {
		if _, err := parseBenchURL(u); err == nil {
			t.Errorf("%q: no error", u)
		}
	}
}

// TestBenchURL loads a real 'sealog serve' with 'sealog bench --url':
// every event it counts is in the log afterwards, single and batched,
// with and without idempotency keys.
func TestBenchURL(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := startServe(t, ctx, t.TempDir())
	want := 0
	for _, args := range [][]string{
		{"--n", "200", "--concurrency", "8"},
		{"--n", "500", "--concurrency", "3", "--batch", "25", "--idempotency"},
	} {
		out, err := runBinary(t, ctx, append([]string{"bench", "--url", s.url, "--token", s.token, "--json"}, args...)...)
		if err != nil {
			t.Fatalf("bench %v: %v\n%s", args, err, out)
		}
		var res benchURLResult
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("bench %v: %v\n%s", args, err, out)
		}
		n, _ := strconv.Atoi(args[1])
		if res.N != n || res.Errors != 0 || res.EventsPerSec <= 0 {
			t.Errorf("bench %v: %+v", args, res)
		}
		want += res.N
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", s.url+"/checkpoint", nil)
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if lines := strings.Split(string(b), "\n"); len(lines) < 2 || lines[1] != strconv.Itoa(want) {
		t.Errorf("the checkpoint after the runs:\n%s\nwant size %d", b, want)
	}
	if out, err := runBinary(t, ctx, "bench", "--url", "ftp://127.0.0.1:1", "--token", s.token); err == nil {
		t.Errorf("bench with an ftp URL: no error\n%s", out)
	}
}
