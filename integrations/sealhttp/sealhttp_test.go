package sealhttp_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/integrations/internal/itest"
	"github.com/sealog/sealog/integrations/sealhttp"
)

func mux(t *testing.T, l *sealog.Log) *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("POST /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "/items/"+r.PathValue("id"))
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, "created "+r.PathValue("id"))
	})
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	return m
}

func TestFields(t *testing.T) {
	l, _ := itest.Open(t)
	mw := sealhttp.New(l, sealhttp.Options{
		User:           func(r *http.Request) string { return r.Header.Get("X-User") },
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		Skip:           []string{"/healthz"},
	})
	h := mw.Handler(mux(t, l))
	r := httptest.NewRequest("POST", "/items/42?token=s3cret&page=2", strings.NewReader("{}"))
	r.RemoteAddr = "10.1.2.3:5555"
	r.Header.Set("X-Forwarded-For", "198.51.100.7, 10.9.9.9")
	r.Header.Set("Authorization", "Bearer sealog_secret")
	r.Header.Set("Cookie", "session=abc")
	r.Header.Set("X-User", "alice@example.com")
	r.Header.Set("X-Request-Id", "req-1")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 201 || w.Body.String() != "created 42" || w.Header().Get("Location") != "/items/42" {
		t.Fatalf("response %d %q %v", w.Code, w.Body, w.Header())
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/healthz", nil))
	if err := mw.Close(itest.Context(t)); err != nil {
		t.Fatal(err)
	}
	es := itest.Entries(t, l)
	if len(es) != 1 {
		t.Fatalf("%d entries, want 1 (the health check is skipped)", len(es))
	}
	e := es[0]
	if e.Kind != "http.request" || e.Actor != "alice@example.com" || e.Resource != "POST /items/{id}" {
		t.Errorf("kind %q actor %q resource %q", e.Kind, e.Actor, e.Resource)
	}
	if bytes.Contains(e.Payload, []byte("sealog_secret")) || bytes.Contains(e.Payload, []byte("s3cret")) || bytes.Contains(e.Payload, []byte("abc")) {
		t.Errorf("a secret was recorded: %s", e.Payload)
	}
	p := itest.Payload(t, e)
	for k, want := range map[string]any{
		"method": "POST", "route": "POST /items/{id}", "path": "/items/42", "status": 201.0, "bytes": 10.0,
		"client_ip": "198.51.100.7", "request_id": "req-1",
	} {
		if p[k] != want {
			t.Errorf("%s = %v, want %v", k, p[k], want)
		}
	}
	if d, _ := p["duration_ns"].(float64); d <= 0 {
		t.Errorf("duration_ns %v", p["duration_ns"])
	}
	q := p["query"].(map[string]any)
	if q["token"].([]any)[0] != sealhttp.Redacted || q["page"].([]any)[0] != "2" {
		t.Errorf("query %v", q)
	}
	hd := p["headers"].(map[string]any)
	if hd["Authorization"].([]any)[0] != sealhttp.Redacted || hd["Cookie"].([]any)[0] != sealhttp.Redacted || hd["X-User"].([]any)[0] != "alice@example.com" {
		t.Errorf("headers %v", hd)
	}
	if s := mw.Stats(); s.Sealed != 1 || s.Failed != 0 || s.Requests != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}
	for _, tc := range []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"no proxy", "198.51.100.1:80", nil, "198.51.100.1"},
		{"untrusted peer's header is ignored", "198.51.100.1:80", []string{"1.2.3.4"}, "198.51.100.1"},
		{"trusted peer", "10.0.0.1:80", []string{"203.0.113.5"}, "203.0.113.5"},
		{"chain of trusted proxies", "10.0.0.1:80", []string{"203.0.113.5, 10.0.0.2", "10.0.0.3"}, "203.0.113.5"},
		{"spoofed left part is not believed", "10.0.0.1:80", []string{"6.6.6.6, 203.0.113.5"}, "203.0.113.5"},
		{"all trusted", "10.0.0.1:80", []string{"10.0.0.2"}, "10.0.0.2"},
		{"garbage from the proxy", "10.0.0.1:80", []string{"nonsense"}, "10.0.0.1"},
		{"no header", "10.0.0.1:80", nil, "10.0.0.1"},
		{"ipv6 proxy", "[2001:db8::1]:443", []string{"2001:db8::2, 2a00::5"}, "2a00::5"},
		{"mapped ipv4", "10.0.0.1:80", []string{"::ffff:203.0.113.9"}, "203.0.113.9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, _ := itest.Open(t)
			mw := sealhttp.New(l, sealhttp.Options{Mode: sealhttp.BeforeResponse, TrustedProxies: trusted})
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			mw.Handler(http.NotFoundHandler()).ServeHTTP(httptest.NewRecorder(), r)
			es := itest.Entries(t, l)
			if got := itest.Payload(t, es[0])["client_ip"]; got != tc.want {
				t.Errorf("client_ip %v, want %s", got, tc.want)
			}
		})
	}
}

// probe is a ResponseWriter that notes the log's size when the response
// starts going out.
type probe struct {
	*httptest.ResponseRecorder
	l      *sealog.Log
	sizeAt int64 // log size at the first WriteHeader, -1 before
}

func (p *probe) WriteHeader(code int) {
	if p.sizeAt < 0 {
		h, err := p.l.Head(context.Background())
		if err != nil {
			panic(err)
		}
		p.sizeAt = int64(h.Size)
	}
	p.ResponseRecorder.WriteHeader(code)
}

func (p *probe) Write(b []byte) (int, error) {
	if !p.ResponseRecorder.Flushed && p.sizeAt < 0 {
		p.WriteHeader(200)
	}
	return p.ResponseRecorder.Write(b)
}

// TestModes checks when the record is durable relative to the handler
// and the response, in each mode.
func TestModes(t *testing.T) {
	for _, tc := range []struct {
		mode          sealhttp.Mode
		method        string
		atHandler     uint64 // entries in the log when the handler runs
		atResponse    int64  // when the response starts
		total         int    // entries at the end
		kinds         string
		beforeHandler bool
	}{
		{sealhttp.BeforeHandler, "POST", 1, 1, 2, "http.request.start http.request", true},
		{sealhttp.BeforeResponse, "GET", 0, 1, 1, "http.request", false},
		{sealhttp.Auto, "POST", 0, 1, 1, "http.request", false},
		{sealhttp.Async, "POST", 0, 0, 1, "http.request", false},
		{sealhttp.Auto, "GET", 0, 0, 1, "http.request", false},
	} {
		t.Run(tc.mode.String()+"/"+tc.method, func(t *testing.T) {
			l, _ := itest.Open(t)
			mx := http.NewServeMux()
			var atHandler uint64
			mx.HandleFunc("/items/{id}", func(w http.ResponseWriter, r *http.Request) {
				h, _ := l.Head(r.Context())
				atHandler = h.Size
				io.WriteString(w, "hello")
			})
			mw := sealhttp.New(l, sealhttp.Options{Mode: tc.mode, Mux: mx})
			p := &probe{ResponseRecorder: httptest.NewRecorder(), l: l, sizeAt: -1}
			mw.Handler(mx).ServeHTTP(p, httptest.NewRequest(tc.method, "/items/7", nil))
			if err := mw.Close(itest.Context(t)); err != nil {
				t.Fatal(err)
			}
			if atHandler != tc.atHandler || p.sizeAt != tc.atResponse {
				t.Errorf("entries when the handler ran: %d, want %d; when the response started: %d, want %d", atHandler, tc.atHandler, p.sizeAt, tc.atResponse)
			}
			if p.Body.String() != "hello" || p.Code != 200 {
				t.Errorf("response %d %q", p.Code, p.Body)
			}
			es := itest.Entries(t, l)
			var kinds []string
			for _, e := range es {
				kinds = append(kinds, e.Kind)
				if e.Resource != "/items/{id}" {
					t.Errorf("entry %d resource %q", e.Seq, e.Resource)
				}
			}
			if strings.Join(kinds, " ") != tc.kinds {
				t.Errorf("kinds %q, want %q", kinds, tc.kinds)
			}
			if tc.beforeHandler {
				if got := itest.Payload(t, es[1])["start_seq"]; got != 0.0 {
					t.Errorf("start_seq %v", got)
				}
			}
		})
	}
}

// TestFailure: a record that cannot be made durable is counted, logged
// and reported; with FailClosed the client gets 503 and nothing of the
// handler's response.
func TestFailure(t *testing.T) {
	for _, tc := range []struct {
		mode       sealhttp.Mode
		failClosed bool
		wantCode   int
		handlerRan bool
	}{
		{sealhttp.BeforeResponse, true, 503, true},
		{sealhttp.BeforeHandler, true, 503, false},
		{sealhttp.BeforeResponse, false, 201, true},
		{sealhttp.BeforeHandler, false, 201, true},
		{sealhttp.Async, true, 201, true},
	} {
		name := tc.mode.String()
		if tc.failClosed {
			name += "/fail-closed"
		}
		t.Run(name, func(t *testing.T) {
			var logged bytes.Buffer
			var reported atomic.Int64
			down := errors.New("disk on fire")
			mw := sealhttp.New(itest.Failing{Err: down}, sealhttp.Options{
				Mode: tc.mode, FailClosed: tc.failClosed,
				Logger: slog.New(slog.NewTextHandler(&logged, nil)),
				OnError: func(err error, ev sealog.Event) {
					if !errors.Is(err, down) || !strings.HasPrefix(ev.Kind, "http.request") {
						t.Errorf("reported %v for %q", err, ev.Kind)
					}
					reported.Add(1)
				},
			})
			ran := false
			h := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ran = true
				w.Header().Set("X-Secret-Result", "approved")
				w.WriteHeader(201)
				io.WriteString(w, "approved")
			}))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest("POST", "/approve", nil))
			if err := mw.Close(itest.Context(t)); err != nil {
				t.Fatal(err)
			}
			if w.Code != tc.wantCode || ran != tc.handlerRan {
				t.Errorf("code %d (want %d), handler ran %v", w.Code, tc.wantCode, ran)
			}
			if tc.wantCode == 503 && (strings.Contains(w.Body.String(), "approved") || w.Header().Get("X-Secret-Result") != "") {
				t.Errorf("the refused response leaks the handler's: %v %q", w.Header(), w.Body)
			}
			s := mw.Stats()
			wantFailed := int64(1)
			if tc.mode == sealhttp.BeforeHandler && !tc.failClosed {
				wantFailed = 2 // the start record and the outcome
			}
			if s.Failed != wantFailed || reported.Load() != wantFailed || s.Sealed != 0 {
				t.Errorf("stats %+v, reported %d, want %d failed", s, reported.Load(), wantFailed)
			}
			if (s.Refused == 1) != (tc.wantCode == 503) {
				t.Errorf("refused %d", s.Refused)
			}
			if !strings.Contains(logged.String(), "audit record not recorded") || !strings.Contains(logged.String(), "disk on fire") {
				t.Errorf("logged %q", logged.String())
			}
		})
	}
}

// TestStreaming runs a real server: a handler that flushes is streaming,
// and its record is durable before the first byte goes out.
func TestStreaming(t *testing.T) {
	l, _ := itest.Open(t)
	var sizeAtFlush uint64
	mw := sealhttp.New(l, sealhttp.Options{Mode: sealhttp.BeforeResponse})
	srv := httptest.NewServer(mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "part one,")
		http.NewResponseController(w).Flush()
		h, _ := l.Head(r.Context())
		sizeAtFlush = h.Size
		io.WriteString(w, "part two")
	})))
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/stream", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "part one,part two" || sizeAtFlush != 1 {
		t.Fatalf("body %q, entries at flush %d", b, sizeAtFlush)
	}
	p := itest.Payload(t, itest.Entries(t, l)[0])
	if p["streamed"] != true || p["bytes"] != 9.0 || p["status"] != 200.0 {
		t.Errorf("payload %v", p)
	}
}

// TestCancelledRequest: a request whose context is cancelled (the client
// went away) is still recorded.
func TestCancelledRequest(t *testing.T) {
	l, _ := itest.Open(t)
	mw := sealhttp.New(l, sealhttp.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	r := httptest.NewRequestWithContext(ctx, "DELETE", "/items/1", nil)
	mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cancel()
		w.WriteHeader(204)
	})).ServeHTTP(httptest.NewRecorder(), r)
	es := itest.Entries(t, l)
	if len(es) != 1 || itest.Payload(t, es[0])["status"] != 204.0 {
		t.Fatalf("entries %v", es)
	}
}

// TestPanic: a handler that panics is recorded with status 500 and the
// panic goes on.
func TestPanic(t *testing.T) {
	for _, mode := range []sealhttp.Mode{sealhttp.BeforeResponse, sealhttp.Async, sealhttp.BeforeHandler} {
		t.Run(mode.String(), func(t *testing.T) {
			l, _ := itest.Open(t)
			mw := sealhttp.New(l, sealhttp.Options{Mode: mode})
			func() {
				defer func() {
					if p := recover(); p != "boom" {
						t.Errorf("recovered %v", p)
					}
				}()
				mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("boom") })).
					ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/x", nil))
			}()
			mw.Close(itest.Context(t))
			es := itest.Entries(t, l)
			p := itest.Payload(t, es[len(es)-1])
			if p["panicked"] != true || p["status"] != 500.0 {
				t.Errorf("payload %v", p)
			}
		})
	}
}
