package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/internal/testkit"
)

// testServer is a Server on 127.0.0.1 over a file-store log in a
// temporary directory, with one token per role.
type testServer struct {
	t      testing.TB
	dir    string
	log    *sealog.Log
	srv    *Server
	hs     *httptest.Server
	url    string
	tokens map[Role]string
	vkey   string
	key    *sealog.Key
	cfg    Config
}

// testKey is the deterministic key of the test logs.
func testKey(t testing.TB) *sealog.Key {
	skey, _ := testkit.Keys("server", testkit.Origin)
	k, err := sealog.ParseKey(skey)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// newTestServer starts a server; cfg's Log and Tokens are filled in.
func newTestServer(t testing.TB, cfg Config) *testServer {
	t.Helper()
	dir := t.TempDir()
	ts := &testServer{t: t, dir: dir, key: testKey(t), tokens: map[Role]string{}}
	tokens, err := CreateTokens(filepath.Join(dir, "tokens.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []Role{RoleAppend, RoleRead, RoleAdmin} {
		tok, _, err := tokens.Add(string(r), r, testkit.Start)
		if err != nil {
			t.Fatal(err)
		}
		ts.tokens[r] = tok
	}
	cfg.Tokens = tokens
	if cfg.IdempotencyFile == "" {
		cfg.IdempotencyFile = filepath.Join(dir, "idempotency.jsonl")
	}
	if cfg.Logger == nil {
		cfg.Logger = testkit.Logger(t)
	}
	ts.cfg = cfg
	ts.start()
	t.Cleanup(ts.stop)
	return ts
}

// start opens the log and starts the server (again, after stop).
func (ts *testServer) start() {
	t := ts.t
	l, err := sealog.Open(filepath.Join(ts.dir, "log"), sealog.Options{Key: ts.key, Logger: testkit.Logger(t),
		Clock: testkit.Clock(time.Millisecond), Rand: testkit.Rand(t.Name())})
	if err != nil {
		t.Fatal(err)
	}
	ts.log, ts.vkey = l, l.VerifierKey()
	cfg := ts.cfg
	cfg.Log = l
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if ts.srv, err = New(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	ts.hs = httptest.NewServer(ts.srv)
	ts.url = ts.hs.URL
}

// stop shuts the server down in order, as sealog serve does.
func (ts *testServer) stop() {
	if ts.hs == nil {
		return
	}
	ts.hs.Close()
	if err := ts.srv.Close(); err != nil {
		ts.t.Error(err)
	}
	if err := ts.log.Close(); err != nil {
		ts.t.Error(err)
	}
	ts.hs = nil
}

// size returns the log's size.
func (ts *testServer) size() uint64 {
	h, err := ts.log.Head(context.Background())
	if err != nil {
		ts.t.Fatal(err)
	}
	return h.Size
}

// call is one request of a test.
type call struct {
	method, path string
	token        string
	body         string
	header       map[string]string
}

// do sends c and returns the status, headers and body.
func (ts *testServer) do(c call) (int, http.Header, []byte) {
	ts.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, ts.url+c.path, body)
	if err != nil {
		ts.t.Fatal(err)
	}
	if c.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		ts.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// appendOK appends body and returns the decoded response.
func (ts *testServer) appendOK(body string, header map[string]string) AppendResponse {
	ts.t.Helper()
	code, _, b := ts.do(call{method: "POST", path: "/v1/entries", token: ts.tokens[RoleAppend], body: body, header: header})
	if code != 200 {
		ts.t.Fatalf("POST /v1/entries %s: %d %s", body, code, b)
	}
	var resp AppendResponse
	if err := json.Unmarshal(b, &resp); err != nil {
		ts.t.Fatalf("decoding %s: %v", b, err)
	}
	return resp
}

// events returns a JSON array of n small events.
func events(n int) string {
	var b bytes.Buffer
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"kind":"test.event","actor":"alice","payload":{"i":`)
		b.WriteString(strings.Repeat("1", 1+i%5))
		b.WriteString(`}}`)
	}
	b.WriteByte(']')
	return b.String()
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func chmod(path string, mode os.FileMode) error { return os.Chmod(path, mode) }

// newLoopback serves h on 127.0.0.1.
func newLoopback(h http.Handler) *httptest.Server { return httptest.NewServer(h) }
