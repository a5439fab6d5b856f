package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/internal/testtsa"
	"github.com/sealog/sealog/server"
	"github.com/sealog/sealog/tsa"
	"github.com/sealog/sealog/tstoken"
	"github.com/sealog/sealog/verify"
)

// TestReceiptTimestamp: a log served with a Timestamper; an append's
// receipt has no token, Client.Receipt fetches the entry's receipt with
// the token that covers it, checked bound to it, and its holder checks it
// offline against the TSA roots. A server that hands a token of another
// checkpoint is refused.
func TestReceiptTimestamp(t *testing.T) {
	ctx := ctxT(t)
	authority, err := testtsa.New(testtsa.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tsaSrv := httptest.NewServer(authority)
	defer tsaSrv.Close()
	roots, err := tsa.ParseRoots(authority.CAPEM)
	if err != nil {
		t.Fatal(err)
	}
	stamper, err := tsa.New(tsa.Options{URL: tsaSrv.URL, Roots: roots})
	if err != nil {
		t.Fatal(err)
	}
	b := newBackend(t)
	dir := filepath.Join(t.TempDir(), "log")
	l, err := sealog.Open(dir, sealog.Options{Key: b.key, Rand: testkit.Rand(dir), Clock: testkit.Clock(time.Millisecond), Timestamper: stamper})
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	srv, err := server.New(sctx, server.Config{Log: l, Tokens: b.tokens, IdempotencyFile: dir + ".idem"})
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = srv
	b.target.Store(&h)
	b.open = append(b.open, func() { srv.Close(); l.Close() })
	c := b.client(Config{})
	defer c.Close()

	rs, err := c.AppendBatch(ctx, []sealog.Event{{Kind: "a"}, {Kind: "b"}, {Kind: "c"}})
	if err != nil {
		t.Fatal(err)
	}
	if rs[1].Timestamp != nil {
		t.Fatal("an append's receipt carries a timestamp")
	}
	testkit.Eventually(t, 10*time.Second, "a timestamp at size 3", func() bool { return l.TimestampStatus().Size == 3 })
	r, err := c.Receipt(ctx, 1, 3)
	if err != nil {
		t.Fatal(err)
	}
	if r.Seq != 1 || r.LeafHash != rs[1].LeafHash || r.Checkpoint != rs[1].Checkpoint || r.Timestamp == nil {
		t.Fatalf("Receipt(1, 3) = %+v; the append's: %+v", r, rs[1])
	}
	_, tc, err := verify.VerifyReceiptTimestamp(r, b.vkey, tstoken.Checker{Roots: roots})
	if err != nil || tc.Signer != verify.SignerTrusted || tc.Time.IsZero() {
		t.Fatalf("VerifyReceiptTimestamp: %+v, %v", tc, err)
	}

	// A later batch the TSA does not stamp: the receipt in the latest
	// checkpoint has none yet.
	authority.SetDown(true)
	if _, err := c.AppendBatch(ctx, []sealog.Event{{Kind: "d"}}); err != nil {
		t.Fatal(err)
	}
	r, err = c.Receipt(ctx, 3, 0)
	if err != nil || r.Timestamp != nil || r.Seq != 3 {
		t.Fatalf("Receipt(3) before its checkpoint is stamped: %+v, %v", r, err)
	}

	// A server whose answer carries a token of another checkpoint: the
	// entry proven in the tree of 4, with the token of 3.
	good, err := c.Receipt(ctx, 1, 3)
	if err != nil {
		t.Fatal(err)
	}
	var forged http.Handler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		w.Header().Set("Content-Type", "application/json")
		w.Write(spliceTimestamp(t, rec.Body.Bytes(), good.Timestamp))
	})
	b.target.Store(&forged)
	if _, err := c.Receipt(ctx, 1, 4); err == nil || !strings.Contains(err.Error(), "the timestamp of size 4") {
		t.Fatalf("a receipt whose token is for another checkpoint: %v, want it refused", err)
	}
	b.target.Store(&h)
}

// spliceTimestamp sets body's (an EntryResponse) timestamp to ts.
func spliceTimestamp(t *testing.T, body []byte, ts *verify.ReceiptTimestamp) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	m["timestamp"] = ts
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
