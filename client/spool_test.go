package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/server"
)

// flaky is a server on a fixed loopback address that can be stopped and
// started again, as a server process is restarted.
type flaky struct {
	t    *testing.T
	addr string
	h    http.Handler
	hs   *http.Server
}

func (f *flaky) start() {
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		f.t.Fatal(err)
	}
	f.addr = ln.Addr().String()
	f.hs = &http.Server{Handler: f.h}
	go f.hs.Serve(ln)
}

func (f *flaky) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f.hs.Shutdown(ctx)
}

func TestSpool(t *testing.T) {
	skey, vkey := testkit.Keys("spool", testkit.Origin)
	key, _ := sealog.ParseKey(skey)
	dir := t.TempDir()
	l, err := sealog.Open(filepath.Join(dir, "log"), sealog.Options{Key: key, Rand: testkit.Rand("spool")})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	tokens, _ := server.CreateTokens(filepath.Join(dir, "tokens.json"))
	tok, _, _ := tokens.Add("app", server.RoleAdmin, testkit.Start)
	srv, err := server.New(ctxT(t), server.Config{Log: l, Tokens: tokens, IdempotencyFile: filepath.Join(dir, "idem.jsonl")})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	f := &flaky{t: t, addr: "127.0.0.1:0", h: srv}
	f.start()
	defer f.stop()
	spoolDir := filepath.Join(dir, "spool")
	var got []sealog.Receipt
	cfg := Config{URL: "http://" + f.addr, Token: tok, VerifierKey: vkey, MaxAttempts: 2, Backoff: time.Millisecond,
		SpoolDir: spoolDir, SpoolInterval: time.Hour, OnSpooled: func(rs []sealog.Receipt) { got = append(got, rs...) }}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ev := func(i int) []sealog.Event {
		return []sealog.Event{{Kind: "spool.test", Payload: map[string]int{"i": i}}}
	}
	if _, spooled, err := c.AppendOrSpool(ctxT(t), ev(0)); err != nil || spooled {
		t.Fatalf("with the server up: spooled %v, %v", spooled, err)
	}
	f.stop()
	for i := 1; i <= 10; i++ {
		if _, spooled, err := c.AppendOrSpool(ctxT(t), ev(i)); err != nil || !spooled {
			t.Fatalf("event %d with the server down: spooled %v, %v", i, spooled, err)
		}
	}
	if err := c.Flush(ctxT(t)); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("Flush with the server down: %v", err)
	}
	// The spool survives the client.
	c.Close()
	if c, err = New(cfg); err != nil || c.Spooled() != 10 {
		t.Fatalf("a new client sees %d spooled batches (%v), want 10", c.Spooled(), err)
	}
	defer c.Close()
	// One batch is sent twice, as after a crash between the server's
	// answer and the spool file's removal.
	first, _ := filepath.Glob(filepath.Join(spoolDir, "*.json"))
	copyOf, _ := os.ReadFile(first[0])
	f.start()
	if err := c.Flush(ctxT(t)); err != nil || c.Spooled() != 0 {
		t.Fatalf("Flush: %v, %d left", err, c.Spooled())
	}
	os.WriteFile(first[0], copyOf, 0o600)
	c2, _ := New(cfg)
	defer c2.Close()
	if err := c2.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if len(got) != 11 || got[10].Seq != got[0].Seq {
		t.Fatalf("%d receipts; the batch sent again got seq %d, want %d", len(got), got[len(got)-1].Seq, got[0].Seq)
	}
	h, _ := l.Head(ctxT(t))
	if h.Size != 11 {
		t.Fatalf("the log has %d entries, want 11: nothing lost, nothing twice", h.Size)
	}
	for i := range 11 {
		e, err := l.Entry(ctxT(t), uint64(i))
		if err != nil || string(e.Payload) != fmt.Sprintf(`{"i":%d}`, i) {
			t.Fatalf("entry %d: %s %v: out of order", i, e.Payload, err)
		}
	}
	// A full spool is an error, not a silent drop.
	f.stop()
	small := cfg
	small.SpoolDir, small.SpoolMaxBytes = filepath.Join(dir, "small"), 200
	c3, _ := New(small)
	defer c3.Close()
	var full error
	for i := 0; i < 10 && full == nil; i++ {
		_, _, full = c3.AppendOrSpool(ctxT(t), ev(100+i))
	}
	if !errors.Is(full, ErrSpoolFull) {
		t.Fatalf("a full spool: %v", full)
	}
}
