package client

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/server"
	"github.com/sealog/sealog/verify"
)

// backend is a log served by a server.Server, behind a switchable proxy
// on 127.0.0.1, so that a test can cut the log back or fork it between
// two calls of one client.
type backend struct {
	t      *testing.T
	tokens *server.Tokens
	token  string
	key    *sealog.Key
	vkey   string
	hs     *httptest.Server
	target atomic.Pointer[http.Handler]
	open   []func()
}

func newBackend(t *testing.T) *backend {
	t.Helper()
	skey, vkey := testkit.Keys("client", testkit.Origin)
	key, _ := sealog.ParseKey(skey)
	b := &backend{t: t, key: key, vkey: vkey}
	var err error
	if b.tokens, err = server.CreateTokens(filepath.Join(t.TempDir(), "tokens.json")); err != nil {
		t.Fatal(err)
	}
	b.token, _, _ = b.tokens.Add("app", server.RoleAdmin, testkit.Start)
	b.hs = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*b.target.Load()).ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		b.hs.Close()
		for _, f := range b.open {
			f()
		}
	})
	return b
}

// serve opens the log in dir and makes the proxy send requests to it. It
// returns the log and a function that stops serving it.
func (b *backend) serve(dir string) (*sealog.Log, func()) {
	b.t.Helper()
	l, err := sealog.Open(dir, sealog.Options{Key: b.key, Rand: testkit.Rand(dir), Clock: testkit.Clock(time.Millisecond)})
	if err != nil {
		b.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := server.New(ctx, server.Config{Log: l, Tokens: b.tokens, IdempotencyFile: dir + ".idem"})
	if err != nil {
		b.t.Fatal(err)
	}
	var h http.Handler = srv
	b.target.Store(&h)
	once := sync.OnceFunc(func() { srv.Close(); l.Close() })
	b.open = append(b.open, once)
	return l, once
}

func (b *backend) client(cfg Config) *Client {
	b.t.Helper()
	cfg.URL, cfg.Token, cfg.VerifierKey = b.hs.URL, b.token, b.vkey
	cfg.Backoff = time.Millisecond
	if cfg.Rand == nil {
		cfg.Rand = testkit.Rand("keys " + b.t.Name())
	}
	c, err := New(cfg)
	if err != nil {
		b.t.Fatal(err)
	}
	return c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestAppendVerifiesAndTracks(t *testing.T) {
	b := newBackend(t)
	b.serve(filepath.Join(t.TempDir(), "log"))
	state := filepath.Join(t.TempDir(), "state.json")
	c := b.client(Config{StateFile: state})
	ctx := ctxT(t)
	r, err := c.Append(ctx, sealog.Event{Kind: "user.login", Actor: "alice", Payload: map[string]any{"ip": "203.0.113.9", "html": "<b>"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verify.VerifyReceipt(r, b.vkey); err != nil {
		t.Fatal(err)
	}
	rs, err := c.AppendBatch(ctx, []sealog.Event{{Kind: "a"}, {Kind: "b", Payload: []byte(`{ "x" : 1 }`)}})
	if err != nil || len(rs) != 2 || rs[1].Seq != 2 {
		t.Fatalf("AppendBatch: %v %+v", err, rs)
	}
	if ck, _ := checkpoint.ParseUnverified(c.Trusted()); ck.Size != 3 {
		t.Errorf("trusted size %d, want 3", ck.Size)
	}
	e, err := c.Entry(ctx, 2)
	if err != nil || e.Kind != "b" || string(e.Payload) != `{"x":1}` {
		t.Errorf("Entry: %v %+v", err, e)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c2 := b.client(Config{StateFile: state})
	if !bytes.Equal(c2.Trusted(), c.Trusted()) {
		t.Error("the state file did not keep the trusted checkpoint")
	}
	if _, err := c.AppendBatch(ctx, []sealog.Event{{Kind: ""}}); err == nil {
		t.Error("an event without a kind was sent")
	}
}

// tamper is a proxy that rewrites the server's answers.
func tamper(b *backend, dir string, edit func([]byte) []byte) {
	b.serve(dir)
	inner := *b.target.Load()
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		inner.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		w.Write(edit(rec.Body.Bytes()))
	})
	b.target.Store(&h)
}

func TestTamperedAnswersAreRejected(t *testing.T) {
	tests := []struct {
		name string
		edit func([]byte) []byte
	}{
		{"payload changed in the line", func(b []byte) []byte { return bytes.Replace(b, []byte(`\"ip\":\"1`), []byte(`\"ip\":\"9`), 1) }},
		{"leaf hash changed", func(b []byte) []byte { return bytes.Replace(b, []byte(`"leaf_hash":"`), []byte(`"leaf_hash":"A`), 1) }},
		{"checkpoint signature changed", func(b []byte) []byte { return bytes.Replace(b, []byte(`\n— `), []byte(`\n— x`), 1) }},
		{"seq changed", func(b []byte) []byte { return bytes.Replace(b, []byte(`"seq":1,`), []byte(`"seq":0,`), 1) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBackend(t)
			dir := filepath.Join(t.TempDir(), "log")
			l, _ := b.serve(dir)
			if _, err := l.Append(ctxT(t), sealog.Event{Kind: "first"}); err != nil {
				t.Fatal(err)
			}
			b.open[0]()
			tamper(b, dir, tt.edit)
			c := b.client(Config{MaxAttempts: 1})
			if _, err := c.Append(ctxT(t), sealog.Event{Kind: "k", Payload: map[string]string{"ip": "1.2.3.4"}}); err == nil {
				t.Fatal("a tampered answer was accepted")
			}
		})
	}
}

func TestRetriesNeverDuplicate(t *testing.T) {
	b := newBackend(t)
	l, _ := b.serve(filepath.Join(t.TempDir(), "log"))
	inner := *b.target.Load()
	var n atomic.Int32
	// The first two answers are lost after the server committed.
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" && n.Add(1) <= 2 {
			inner.ServeHTTP(httptest.NewRecorder(), r)
			http.Error(w, "gateway lost the answer", http.StatusBadGateway)
			return
		}
		inner.ServeHTTP(w, r)
	})
	b.target.Store(&h)
	c := b.client(Config{})
	r, err := c.Append(ctxT(t), sealog.Event{Kind: "once"})
	if err != nil {
		t.Fatal(err)
	}
	hd, _ := l.Head(ctxT(t))
	if r.Seq != 0 || hd.Size != 1 || n.Load() != 3 {
		t.Fatalf("seq %d, log size %d after %d tries; want one entry", r.Seq, hd.Size, n.Load())
	}
	// A client error is not retried.
	c2 := b.client(Config{Token: "sealog_000000000000_" + string(bytes.Repeat([]byte("A"), 43))})
	c2.cfg.Token = "wrong"
	_, err = c2.Append(ctxT(t), sealog.Event{Kind: "x"})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 401 {
		t.Errorf("a wrong token: %v", err)
	}
}

func TestUnreachable(t *testing.T) {
	hs := httptest.NewServer(http.NotFoundHandler())
	url := hs.URL
	hs.Close()
	_, vkey := testkit.Keys("client", testkit.Origin)
	c, err := New(Config{URL: url, VerifierKey: vkey, MaxAttempts: 2, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Append(ctxT(t), sealog.Event{Kind: "x"}); !errors.Is(err, ErrUnreachable) {
		t.Errorf("got %v, want ErrUnreachable", err)
	}
}

// copyDir copies a closed log's directory.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(filepath.Join(dst, rel))
		if err != nil {
			return err
		}
		defer out.Close()
		_, err = io.Copy(out, in)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// checkEvidence checks that a ConsistencyError carries two checkpoints
// signed by the log's key, of the sizes it names.
func checkEvidence(t *testing.T, b *backend, ce *ConsistencyError) {
	t.Helper()
	v, _ := note.NewVerifier(b.vkey)
	for _, msg := range [][]byte{ce.Old, ce.New} {
		if _, _, err := checkpoint.Open(msg, note.VerifierList(v), ""); err != nil {
			t.Errorf("the evidence holds a checkpoint that does not verify: %v", err)
		}
	}
	oc, _ := checkpoint.ParseUnverified(ce.Old)
	nc, _ := checkpoint.ParseUnverified(ce.New)
	if oc.Size != ce.OldSize || nc.Size != ce.NewSize {
		t.Errorf("evidence sizes %d, %d; checkpoints %d, %d", ce.OldSize, ce.NewSize, oc.Size, nc.Size)
	}
	if ce.Proof != nil && ce.OldSize < ce.NewSize && tlog.CheckTree(ce.Proof, int64(nc.Size), nc.Root, int64(oc.Size), oc.Root) == nil {
		t.Errorf("the evidence's proof verifies: no inconsistency shown")
	}
}
