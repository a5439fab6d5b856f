// Package sealhttp is net/http middleware that records every request in
// a tamper-evident sealog log: method, route pattern, path, status,
// bytes, duration, client IP, request ID and user.
//
//	mw := sealhttp.New(auditLog, sealhttp.Options{User: currentUser})
//	http.ListenAndServe(addr, mw.Handler(mux))
//
// auditLog is any sealog.Appender: a *sealog.Log (a local log) or a
// *client.Client (a remote 'sealog serve').
//
// # When the record is durable
//
// Options.Mode says when the record is made durable relative to the
// response:
//
//   - BeforeHandler: a start record ("http.request.start") is durable
//     before the handler runs, so that every attempt is on record, even
//     one whose handler crashes the process; the outcome record follows
//     asynchronously.
//   - BeforeResponse: the handler's response (status, headers, body) is
//     held in a buffer until the handler returns; the record, with the
//     final status and size, is made durable, and only then is the
//     response sent. A handler that calls Flush, or writes more than
//     Options.MaxBuffer bytes, is streaming: the record is made durable
//     at that moment, with the status and the bytes so far and
//     "streamed":true, and the rest of the response goes out unbuffered.
//   - Async: the record is queued after the handler returns; the response
//     is not delayed.
//
// The default, Auto, is BeforeResponse for mutating methods (all but GET,
// HEAD, OPTIONS and TRACE) and Async for the others.
//
// # Failure
//
// A record that cannot be made durable is counted (Middleware.Stats),
// logged (Options.Logger) and handed to Options.OnError, never dropped
// silently. With Options.FailClosed the request is refused instead: in
// BeforeHandler mode the handler does not run; in BeforeResponse mode the
// buffered response is discarded. Either way the client gets 503 Service
// Unavailable, so the handler's effect is never acknowledged. (In
// BeforeResponse mode the handler has run: a handler whose effect must
// not happen without a record uses BeforeHandler, or a transaction it
// commits after the record.)
package sealhttp

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"sync/atomic"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/integrations/internal/recorder"
)

// Mode says when a request's record is made durable.
type Mode int

const (
	// Auto is BeforeResponse for mutating methods, Async for the others.
	Auto Mode = iota
	// BeforeHandler records the attempt durably before the handler runs.
	BeforeHandler
	// BeforeResponse makes the record durable before the response is sent.
	BeforeResponse
	// Async records after the handler returns, without delaying it.
	Async
)

// String returns the mode's name, as the docs spell it.
func (m Mode) String() string {
	switch m {
	case Auto:
		return "auto"
	case BeforeHandler:
		return "before-handler"
	case BeforeResponse:
		return "before-response"
	case Async:
		return "async"
	}
	return "mode(?)"
}

// Options configure a Middleware. The zero value is usable.
type Options struct {
	// Mode says when records are durable; see the package doc.
	Mode Mode
	// FailClosed answers 503 when a BeforeHandler or BeforeResponse
	// record cannot be made durable.
	FailClosed bool
	// Kind is the entries' kind; "" means "http.request" (and
	// "http.request.start" for the start records of BeforeHandler).
	Kind string
	// User returns the request's user, recorded as the entry's actor.
	User func(*http.Request) string
	// Mux, if set, is asked for the route pattern when the request does
	// not carry one: before the handler runs (BeforeHandler start
	// records), or when a middleware between this one and the ServeMux
	// passed the mux a copy of the request. Otherwise the pattern is the
	// one ServeMux set on the request (Request.Pattern) while routing it.
	Mux *http.ServeMux
	// Skip lists request paths not recorded (health checks), exactly.
	Skip []string
	// TrustedProxies are the addresses whose X-Forwarded-For header is
	// believed. The client IP is the peer's address unless the peer is a
	// trusted proxy; then it is the rightmost address in X-Forwarded-For
	// that is not a trusted proxy.
	TrustedProxies []netip.Prefix
	// RequestIDHeader names the request ID header; "" means
	// "X-Request-Id". A request without one gets a new random ID, set on
	// the response too.
	RequestIDHeader string
	// Headers lists the request headers recorded (canonical names); nil
	// means all of them. RedactHeaders are recorded as "[REDACTED]"; nil
	// means Authorization, Proxy-Authorization and Cookie.
	Headers, RedactHeaders []string
	// RedactQuery lists the query parameters recorded as "[REDACTED]";
	// nil means access_token, token and password.
	RedactQuery []string
	// MaxBuffer caps the response bytes BeforeResponse holds back; 0
	// means 1 MiB.
	MaxBuffer int
	// Timeout bounds one append; 0 means 30 seconds.
	Timeout time.Duration
	// Block bounds the wait for an overloaded log or a full asynchronous
	// queue; 0 means the record fails at once.
	Block time.Duration
	// QueueSize is the asynchronous queue's capacity; 0 means 4096.
	QueueSize int
	// OnError is called for every record not made durable (a metric
	// hook); it must be safe for concurrent use.
	OnError func(err error, ev sealog.Event)
	// Logger logs every record not made durable; nil means
	// slog.Default().
	Logger *slog.Logger
}

// Redacted replaces the value of a redacted header or query parameter.
const Redacted = "[REDACTED]"

// Stats are a Middleware's counters.
type Stats struct {
	Sealed   int64 // records made durable
	Failed   int64 // records that could not be, each reported
	Refused  int64 // requests answered 503 because of FailClosed
	Queued   int   // records waiting in the asynchronous queue
	Requests int64 // requests seen, skipped ones excluded
}

// Middleware records requests. Its methods are safe for concurrent use.
type Middleware struct {
	opts  Options
	rec   *recorder.Recorder
	skip  map[string]bool
	hdrs  map[string]bool // nil: all
	red   map[string]bool
	redQ  map[string]bool
	stats struct{ refused, requests atomic.Int64 }
}

// New returns the middleware; Close drains its asynchronous queue.
func New(a sealog.Appender, opts Options) *Middleware {
	if opts.Kind == "" {
		opts.Kind = "http.request"
	}
	if opts.RequestIDHeader == "" {
		opts.RequestIDHeader = "X-Request-Id"
	}
	if opts.RedactHeaders == nil {
		opts.RedactHeaders = []string{"Authorization", "Proxy-Authorization", "Cookie"}
	}
	if opts.RedactQuery == nil {
		opts.RedactQuery = []string{"access_token", "token", "password"}
	}
	if opts.MaxBuffer <= 0 {
		opts.MaxBuffer = 1 << 20
	}
	m := &Middleware{opts: opts, skip: set(opts.Skip, false), red: set(opts.RedactHeaders, true), redQ: set(opts.RedactQuery, false)}
	if opts.Headers != nil {
		m.hdrs = set(opts.Headers, true)
	}
	cfg := recorder.Config{
		Appender: a, Name: "sealhttp", Timeout: opts.Timeout, Block: opts.Block, QueueSize: opts.QueueSize,
		OnError: opts.OnError, Logger: opts.Logger,
	}
	m.rec = recorder.New(cfg)
	return m
}

func set(l []string, canon bool) map[string]bool {
	s := make(map[string]bool, len(l))
	for _, k := range l {
		if canon {
			k = http.CanonicalHeaderKey(k)
		}
		s[k] = true
	}
	return s
}

// Handler wraps next.
func (m *Middleware) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { m.serve(w, r, next) })
}

// Stats returns the counters.
func (m *Middleware) Stats() Stats {
	s := m.rec.Stats()
	return Stats{Sealed: s.Sealed, Failed: s.Failed, Queued: s.Queued, Refused: m.stats.refused.Load(), Requests: m.stats.requests.Load()}
}

// Close stops recording and waits until the queued records are appended
// (or have failed); requests after Close are served, their records fail
// and are reported. It does not close the log.
func (m *Middleware) Close(ctx context.Context) error { return m.rec.Close(ctx) }

// mode returns the mode for r.
func (m *Middleware) mode(r *http.Request) Mode {
	if m.opts.Mode != Auto {
		return m.opts.Mode
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return Async
	}
	return BeforeResponse
}

// request is what is known of a request before its handler runs.
type request struct {
	start time.Time
	id    string
}

func (m *Middleware) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	if m.skip[r.URL.Path] {
		next.ServeHTTP(w, r)
		return
	}
	m.stats.requests.Add(1)
	rq := request{start: time.Now(), id: r.Header.Get(m.opts.RequestIDHeader)}
	if rq.id == "" {
		rq.id = newID()
		r.Header.Set(m.opts.RequestIDHeader, rq.id)
		w.Header().Set(m.opts.RequestIDHeader, rq.id)
	}
	switch mode := m.mode(r); mode {
	case BeforeHandler:
		ev := m.event(r, rq, m.pattern(r), nil)
		ev.Kind += ".start"
		rc, err := m.rec.Seal(r.Context(), ev)
		if err != nil && m.opts.FailClosed {
			m.refuse(w)
			return
		}
		rw := &recordingWriter{w: w}
		defer func() {
			o := rw.outcome(rq.start, recover())
			if err == nil {
				o.startSeq = &rc.Seq
			}
			m.rec.Enqueue(m.event(r, rq, m.pattern(r), &o))
			if o.panicked != nil {
				panic(o.panicked)
			}
		}()
		next.ServeHTTP(rw, r)
	case BeforeResponse:
		bw := &bufferedWriter{w: w, header: http.Header{}, m: m, r: r, rq: rq}
		defer func() {
			p := recover()
			if p != nil && !bw.committed {
				// The handler panicked: record it; net/http answers 500 or
				// drops the connection.
				bw.status, bw.bodyLen = http.StatusInternalServerError, 0
				bw.panicked = p
			}
			if !bw.committed {
				bw.commit(false)
			}
			if p != nil {
				panic(p)
			}
		}()
		next.ServeHTTP(bw, r)
	default:
		rw := &recordingWriter{w: w}
		defer func() {
			o := rw.outcome(rq.start, recover())
			m.rec.Enqueue(m.event(r, rq, m.pattern(r), &o))
			if o.panicked != nil {
				panic(o.panicked)
			}
		}()
		next.ServeHTTP(rw, r)
	}
}

// pattern returns r's route pattern: the one ServeMux set on r, else the
// one Options.Mux would route r by.
func (m *Middleware) pattern(r *http.Request) string {
	if r.Pattern != "" || m.opts.Mux == nil {
		return r.Pattern
	}
	_, p := m.opts.Mux.Handler(r)
	return p
}

// refuse answers 503: the record could not be made durable.
func (m *Middleware) refuse(w http.ResponseWriter) {
	m.stats.refused.Add(1)
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Retry-After", "1")
	w.WriteHeader(http.StatusServiceUnavailable)
	w.Write([]byte("audit log unavailable: the request was not carried out or its result is withheld\n"))
}

// outcome is what is known once the handler returned (or streamed).
type outcome struct {
	status   int
	bytes    int64
	duration time.Duration
	streamed bool
	panicked any
	startSeq *uint64
}

// event builds the record of r; o is nil for a start record.
func (m *Middleware) event(r *http.Request, rq request, pattern string, o *outcome) sealog.Event {
	p := map[string]any{
		"method":     r.Method,
		"path":       r.URL.Path,
		"client_ip":  m.clientIP(r),
		"request_id": rq.id,
		"proto":      r.Proto,
		"host":       r.Host,
		"time":       rq.start.UTC().Format(time.RFC3339Nano),
	}
	if pattern != "" {
		p["route"] = pattern
	}
	if q := m.query(r); q != nil {
		p["query"] = q
	}
	if h := m.headers(r); len(h) > 0 {
		p["headers"] = h
	}
	if o != nil {
		p["status"] = o.status
		p["bytes"] = o.bytes
		p["duration_ns"] = o.duration.Nanoseconds()
		if o.streamed {
			p["streamed"] = true
		}
		if o.panicked != nil {
			p["panicked"] = true
		}
		if o.startSeq != nil {
			p["start_seq"] = *o.startSeq
		}
	}
	ev := sealog.Event{Kind: m.opts.Kind, Resource: r.Method + " " + r.URL.Path, Payload: recorder.Encode(p)}
	if pattern != "" {
		ev.Resource = pattern
	}
	if m.opts.User != nil {
		ev.Actor = m.opts.User(r)
	}
	return ev
}

func (m *Middleware) query(r *http.Request) map[string][]string {
	if r.URL.RawQuery == "" {
		return nil
	}
	q := r.URL.Query()
	for k, vs := range q {
		if m.redQ[k] {
			for i := range vs {
				vs[i] = Redacted
			}
		}
	}
	return q
}

func (m *Middleware) headers(r *http.Request) map[string][]string {
	h := make(map[string][]string, len(r.Header))
	for k, vs := range r.Header {
		if m.hdrs != nil && !m.hdrs[k] {
			continue
		}
		if m.red[k] {
			vs = slices.Repeat([]string{Redacted}, len(vs))
		}
		h[k] = vs
	}
	return h
}

func (m *Middleware) clientIP(r *http.Request) string {
	return recorder.ClientIP(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), m.opts.TrustedProxies)
}

func newID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// recordingWriter passes a response through, counting it.
type recordingWriter struct {
	w      http.ResponseWriter
	status int
	bytes  int64
}

func (rw *recordingWriter) Header() http.Header { return rw.w.Header() }

func (rw *recordingWriter) WriteHeader(code int) {
	if rw.status == 0 && code >= 200 || code == http.StatusSwitchingProtocols {
		rw.status = code
	}
	rw.w.WriteHeader(code)
}

func (rw *recordingWriter) Write(p []byte) (int, error) {
	if rw.status == 0 {
		rw.status = http.StatusOK
	}
	n, err := rw.w.Write(p)
	rw.bytes += int64(n)
	return n, err
}

// Flush flushes the response, if the underlying writer can.
func (rw *recordingWriter) Flush() {
	if rw.status == 0 {
		rw.status = http.StatusOK
	}
	http.NewResponseController(rw.w).Flush()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (rw *recordingWriter) Unwrap() http.ResponseWriter { return rw.w }

func (rw *recordingWriter) outcome(start time.Time, panicked any) outcome {
	o := outcome{status: rw.status, bytes: rw.bytes, duration: time.Since(start), panicked: panicked}
	if o.status == 0 {
		o.status = http.StatusOK
		if panicked != nil {
			o.status = http.StatusInternalServerError
		}
	}
	return o
}

// errWithheld is what a handler's writes return after its response was
// refused (FailClosed).
var errWithheld = errors.New("sealhttp: response withheld: the audit record could not be made durable")

// bufferedWriter holds a response back until its record is durable.
type bufferedWriter struct {
	w        http.ResponseWriter
	header   http.Header // the handler's; copied to w's at commit
	m        *Middleware
	r        *http.Request
	rq       request
	status   int
	buf      bytes.Buffer
	bodyLen  int64
	panicked any

	committed bool // the record was sealed (or failed): from now on, pass through or refuse
	refused   bool
}

func (bw *bufferedWriter) Header() http.Header {
	if bw.committed && !bw.refused {
		return bw.w.Header()
	}
	return bw.header
}

func (bw *bufferedWriter) WriteHeader(code int) {
	switch {
	case bw.refused:
	case bw.committed:
		bw.w.WriteHeader(code)
	case code < 200 && code != http.StatusSwitchingProtocols:
		// Informational answers (103 Early Hints) go out at once: they
		// acknowledge nothing.
		copyHeader(bw.w.Header(), bw.header)
		bw.w.WriteHeader(code)
	case bw.status == 0:
		bw.status = code
	}
}

func (bw *bufferedWriter) Write(p []byte) (int, error) {
	if bw.refused {
		return 0, errWithheld
	}
	if bw.status == 0 {
		bw.status = http.StatusOK
	}
	if bw.committed {
		n, err := bw.w.Write(p)
		bw.bodyLen += int64(n)
		return n, err
	}
	bw.buf.Write(p)
	bw.bodyLen += int64(len(p))
	if bw.buf.Len() > bw.m.opts.MaxBuffer {
		if !bw.commit(true) {
			return 0, errWithheld
		}
	}
	return len(p), nil
}

// Flush commits the record (the response is streaming), then flushes.
func (bw *bufferedWriter) Flush() {
	if bw.refused {
		return
	}
	if !bw.committed && !bw.commit(true) {
		return
	}
	http.NewResponseController(bw.w).Flush()
}

// commit makes the record durable and sends what is buffered, or
// refuses the response. It reports whether the response goes on.
func (bw *bufferedWriter) commit(streamed bool) bool {
	bw.committed = true
	if bw.status == 0 {
		bw.status = http.StatusOK
	}
	o := outcome{status: bw.status, bytes: bw.bodyLen, duration: time.Since(bw.rq.start), streamed: streamed, panicked: bw.panicked}
	_, err := bw.m.rec.Seal(bw.r.Context(), bw.m.event(bw.r, bw.rq, bw.m.pattern(bw.r), &o))
	if err != nil && bw.m.opts.FailClosed {
		bw.refused = true
		bw.buf = bytes.Buffer{}
		if bw.panicked == nil {
			bw.m.refuse(bw.w)
		}
		return false
	}
	if bw.panicked != nil {
		return false
	}
	copyHeader(bw.w.Header(), bw.header)
	bw.w.WriteHeader(bw.status)
	if bw.buf.Len() > 0 {
		bw.w.Write(bw.buf.Bytes())
	}
	bw.buf = bytes.Buffer{}
	return true
}

func copyHeader(dst, src http.Header) {
	for k, vs := range src {
		dst[k] = vs
	}
}
