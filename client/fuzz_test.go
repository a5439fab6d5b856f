package client

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/server"
	"github.com/sealog/sealog/verify"
)

// The routes a fuzzed answer may replace (fuzzRoute).
var fuzzRoutes = []string{"checkpoint", "entry", "append", "list", "proof", "tile"}

// fuzzRoute names the route of a request, as fuzzRoutes does.
func fuzzRoute(r *http.Request) string {
	p := r.URL.Path
	switch {
	case p == "/checkpoint":
		return "checkpoint"
	case p == "/v1/entries" && r.Method == http.MethodPost:
		return "append"
	case p == "/v1/entries":
		return "list"
	case strings.HasPrefix(p, "/v1/entries/"):
		return "entry"
	case strings.HasPrefix(p, "/v1/proof/"):
		return "proof"
	case strings.HasPrefix(p, "/tile/"):
		return "tile"
	}
	return ""
}

// FuzzClientAnswers: a server whose answers on one route are the
// fuzzer's bytes (the genuine answer's status and headers, another body)
// never makes the client panic or hang, and whatever the client accepts
// is true of the genuine log: a checkpoint signed by the pinned key with
// the genuine root at its size, an entry with the genuine line and leaf,
// a receipt that verifies offline for the genuine leaf, an append whose
// receipt verifies and names the entry that holds the event sent.
// Seeded with the genuine answers (go test ./client -run '^$' -fuzz
// FuzzClientAnswers). The log is its own, not newBackend's: every fuzz
// worker process must build the same log (seeded key, salts and clock),
// or the seeds recorded by one would be, to another, a fork signed by
// the same key, which a client with no trusted checkpoint rightly takes.
func FuzzClientAnswers(f *testing.F) {
	ctx := context.Background()
	skey, vkey := testkit.Keys("client fuzz", testkit.Origin)
	key, err := sealog.ParseKey(skey)
	if err != nil {
		f.Fatal(err)
	}
	dir := filepath.Join(f.TempDir(), "log")
	l, err := sealog.Open(dir, sealog.Options{Key: key, Rand: testkit.Rand("client fuzz"), Clock: testkit.Clock(time.Millisecond)})
	if err != nil {
		f.Fatal(err)
	}
	defer l.Close()
	for i := range 3 {
		if _, err := l.AppendBatch(ctx, []sealog.Event{{Kind: "fuzz.seed", Payload: map[string]int{"i": i}}, {Kind: "fuzz.seed", Actor: "bob"}}); err != nil {
			f.Fatal(err)
		}
	}
	tokens, err := server.CreateTokens(filepath.Join(f.TempDir(), "tokens.json"))
	if err != nil {
		f.Fatal(err)
	}
	token, _, _ := tokens.Add("fuzz", server.RoleAdmin, testkit.Start)
	srv, err := server.New(ctx, server.Config{Log: l, Tokens: tokens, IdempotencyFile: dir + ".idem"})
	if err != nil {
		f.Fatal(err)
	}
	defer srv.Close()

	var (
		mu    sync.Mutex
		route string // the route whose answers are replaced; "" records seeds
		body  []byte
		seeds = map[string][]byte{}
	)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, r)
		mu.Lock()
		name, replace, b := fuzzRoute(r), route, body
		if replace == "" && seeds[name] == nil && rec.Code == http.StatusOK {
			seeds[name] = bytes.Clone(rec.Body.Bytes())
		}
		mu.Unlock()
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		if replace != "" && name == replace {
			w.Write(b)
			return
		}
		w.Write(rec.Body.Bytes())
	}))
	defer hs.Close()
	newClient := func() *Client {
		c, err := New(Config{URL: hs.URL, Token: token, VerifierKey: vkey, MaxAttempts: 1, Backoff: time.Millisecond,
			HTTPClient: &http.Client{Timeout: 5 * time.Second}, Rand: testkit.Rand("client fuzz keys")})
		if err != nil {
			f.Fatal(err)
		}
		return c
	}
	// exercise runs every call under test and checks what it accepts.
	exercise := func(t testing.TB, c *Client) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		start := time.Now()
		if ck, b, err := c.Checkpoint(ctx); err == nil {
			got, _, verr := checkpoint.Verify(b, key.Verifier(), testkit.Origin)
			root, rerr := l.TreeHash(ctx, ck.Size)
			if verr != nil || rerr != nil || got.Root != root || ck.Root != root {
				t.Fatalf("accepted a checkpoint of size %d that is not the log's: %v %v\n%s", ck.Size, verr, rerr, b)
			}
		}
		if e, err := c.Entry(ctx, 2); err == nil {
			g, gerr := l.Entry(ctx, 2)
			if gerr != nil || e.Seq != 2 || e.LeafHash != g.LeafHash || !bytes.Equal(e.Line, g.Line) {
				t.Fatalf("accepted entry %d with leaf %x, not the log's entry 2", e.Seq, e.LeafHash)
			}
		}
		if r, err := c.Receipt(ctx, 1, 0); err == nil {
			g, gerr := l.Entry(ctx, 1)
			if _, verr := verify.VerifyReceipt(r, vkey); verr != nil || gerr != nil || r.Seq != 1 || r.LeafHash != g.LeafHash {
				t.Fatalf("accepted a receipt of entry %d that is not the log's entry 1: %v", r.Seq, verr)
			}
		}
		if r, err := c.Append(ctx, sealog.Event{Kind: "fuzz.append", Actor: "carol"}); err == nil {
			g, gerr := l.Entry(ctx, r.Seq)
			if _, verr := verify.VerifyReceipt(r, vkey); verr != nil || gerr != nil || r.LeafHash != g.LeafHash || g.Kind != "fuzz.append" || g.Actor != "carol" {
				t.Fatalf("accepted a receipt of entry %d that does not hold the event sent: %v %v", r.Seq, verr, gerr)
			}
		}
		prev := int64(-1)
		_ = c.Lines(ctx, 0, 4, func(seq uint64, _ []byte) error {
			if int64(seq) != prev+1 {
				t.Fatalf("Lines gave entry %d after %d", seq, prev)
			}
			prev = int64(seq)
			return nil
		})
		if d := time.Since(start); d > 8*time.Second {
			t.Fatalf("the calls took %v", d)
		}
	}
	exercise(f, newClient()) // records the genuine answers
	for i, name := range fuzzRoutes {
		f.Add(uint8(i), seeds[name])
	}
	f.Add(uint8(0), []byte(testkit.Origin+"\n99\nAAAA\n\n— x AAAA\n"))
	f.Add(uint8(2), []byte(`{"receipts":[{"seq":0}]}`))
	f.Fuzz(func(t *testing.T, sel uint8, b []byte) {
		mu.Lock()
		route, body = fuzzRoutes[int(sel)%len(fuzzRoutes)], b
		mu.Unlock()
		defer func() {
			mu.Lock()
			route, body = "", nil
			mu.Unlock()
		}()
		c := newClient()
		defer c.Close()
		exercise(t, c)
	})
}
