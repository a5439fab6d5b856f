// Package sealgrpc has gRPC server interceptors that record every call in
// a tamper-evident sealog log: method, peer, code, duration, user and
// request ID. It is its own package so that nothing else in sealog
// depends on google.golang.org/grpc.
//
//	in := sealgrpc.New(auditLog, sealgrpc.Options{User: userFromContext})
//	srv := grpc.NewServer(grpc.ChainUnaryInterceptor(in.Unary()), grpc.ChainStreamInterceptor(in.Stream()))
//
// auditLog is any sealog.Appender: a *sealog.Log (a local log) or a
// *client.Client (a remote 'sealog serve').
//
// The durability modes and the failure policy are those of package
// sealhttp: BeforeHandler makes a start record ("grpc.call.start")
// durable before the handler runs; BeforeResponse (the default: gRPC
// does not say which methods change state) makes the record durable
// before the response goes out — for a unary call, before the reply is
// returned to the client; for a stream, before its first header or
// message is sent (then "streamed":true and the code is the one
// returned at the end only if nothing was sent), or before its status
// when it sends nothing; Async queues the record after the call. With
// FailClosed a call whose record cannot be made durable fails with
// codes.Unavailable, and its reply is not sent. Every failure is
// counted, logged and handed to Options.OnError.
package sealgrpc

import (
	"context"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/integrations/internal/recorder"
)

// Mode says when a call's record is made durable.
type Mode int

const (
	// BeforeResponse makes the record durable before the response goes
	// out. It is the default.
	BeforeResponse Mode = iota
	// BeforeHandler records the attempt durably before the handler runs;
	// the outcome record follows asynchronously.
	BeforeHandler
	// Async records after the call, without delaying it.
	Async
)

// Options configure the interceptors. The zero value is usable.
type Options struct {
	// Mode says when records are durable.
	Mode Mode
	// FailClosed fails a call with codes.Unavailable when its
	// BeforeHandler or BeforeResponse record cannot be made durable.
	FailClosed bool
	// Kind is the entries' kind; "" means "grpc.call" (and
	// "grpc.call.start" for BeforeHandler's start records).
	Kind string
	// User returns the call's user, recorded as the entry's actor.
	User func(ctx context.Context) string
	// Skip lists full method names not recorded
	// ("/grpc.health.v1.Health/Check").
	Skip []string
	// TrustedProxies are the peers whose x-forwarded-for metadata is
	// believed, as in sealhttp.
	TrustedProxies []netip.Prefix
	// RequestIDKey is the metadata key of the request ID; "" means
	// "x-request-id".
	RequestIDKey string
	// RedactMetadata lists the metadata keys recorded as "[REDACTED]";
	// nil means authorization and cookie. Metadata is recorded only if
	// RecordMetadata is set.
	RedactMetadata []string
	// RecordMetadata records the call's incoming metadata.
	RecordMetadata bool
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

// Redacted replaces the values of redacted metadata.
const Redacted = "[REDACTED]"

// Stats are the interceptors' counters.
type Stats struct {
	Sealed  int64 // records made durable
	Failed  int64 // records that could not be, each reported
	Refused int64 // calls failed with Unavailable because of FailClosed
	Queued  int   // records waiting in the asynchronous queue
	Calls   int64 // calls seen, skipped ones excluded
}

// Interceptors record calls. Their methods are safe for concurrent use.
type Interceptors struct {
	opts    Options
	rec     *recorder.Recorder
	skip    map[string]bool
	red     map[string]bool
	refused atomic.Int64
	calls   atomic.Int64
}

// New returns the interceptors; Close drains their asynchronous queue.
func New(a sealog.Appender, opts Options) *Interceptors {
	if opts.Kind == "" {
		opts.Kind = "grpc.call"
	}
	if opts.RequestIDKey == "" {
		opts.RequestIDKey = "x-request-id"
	}
	if opts.RedactMetadata == nil {
		opts.RedactMetadata = []string{"authorization", "cookie"}
	}
	in := &Interceptors{opts: opts, skip: map[string]bool{}, red: map[string]bool{}}
	for _, m := range opts.Skip {
		in.skip[m] = true
	}
	for _, k := range opts.RedactMetadata {
		in.red[strings.ToLower(k)] = true
	}
	in.rec = recorder.New(recorder.Config{
		Appender: a, Name: "sealgrpc", Timeout: opts.Timeout, Block: opts.Block, QueueSize: opts.QueueSize,
		OnError: opts.OnError, Logger: opts.Logger,
	})
	return in
}

// Stats returns the counters.
func (in *Interceptors) Stats() Stats {
	s := in.rec.Stats()
	return Stats{Sealed: s.Sealed, Failed: s.Failed, Queued: s.Queued, Refused: in.refused.Load(), Calls: in.calls.Load()}
}

// Close stops recording and waits until the queued records are appended
// (or have failed). It does not close the log.
func (in *Interceptors) Close(ctx context.Context) error { return in.rec.Close(ctx) }

// errUnavailable is what a call refused by FailClosed fails with.
var errUnavailable = status.Error(codes.Unavailable, "audit log unavailable: the call was not carried out or its result is withheld")

// call is what is known of a call before its handler runs.
type call struct {
	method string
	start  time.Time
	stream bool
}

// outcome is what is known after it.
type outcome struct {
	code     codes.Code
	duration time.Duration
	streamed bool
	panicked bool
	startSeq *uint64
}

// Unary returns the unary server interceptor.
func (in *Interceptors) Unary() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		if in.skip[info.FullMethod] {
			return handler(ctx, req)
		}
		in.calls.Add(1)
		c := call{method: info.FullMethod, start: time.Now()}
		var startSeq *uint64
		if in.opts.Mode == BeforeHandler {
			var ok bool
			if startSeq, ok = in.start(ctx, c); !ok {
				return nil, errUnavailable
			}
		}
		panicked := true
		defer func() {
			if !panicked {
				return
			}
			// Record the panic, then let it go on.
			o := outcome{code: codes.Unknown, duration: time.Since(c.start), panicked: true, startSeq: startSeq}
			in.rec.Enqueue(in.event(ctx, c, &o))
		}()
		resp, err = handler(ctx, req)
		panicked = false
		o := outcome{code: status.Code(err), duration: time.Since(c.start), startSeq: startSeq}
		ev := in.event(ctx, c, &o)
		if in.opts.Mode != BeforeResponse {
			in.rec.Enqueue(ev)
			return resp, err
		}
		if _, serr := in.rec.Seal(ctx, ev); serr != nil && in.opts.FailClosed {
			in.refused.Add(1)
			return nil, errUnavailable
		}
		return resp, err
	}
}

// Stream returns the stream server interceptor.
func (in *Interceptors) Stream() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if in.skip[info.FullMethod] {
			return handler(srv, ss)
		}
		in.calls.Add(1)
		ctx := ss.Context()
		c := call{method: info.FullMethod, start: time.Now(), stream: true}
		var startSeq *uint64
		if in.opts.Mode == BeforeHandler {
			var ok bool
			if startSeq, ok = in.start(ctx, c); !ok {
				return errUnavailable
			}
		}
		ws := &stream{ServerStream: ss, in: in, c: c}
		panicked := true
		defer func() {
			if panicked {
				o := outcome{code: codes.Unknown, duration: time.Since(c.start), panicked: true, startSeq: startSeq}
				in.rec.Enqueue(in.event(ctx, c, &o))
			}
		}()
		var err error
		if in.opts.Mode == BeforeResponse {
			err = handler(srv, ws)
		} else {
			err = handler(srv, ss)
		}
		panicked = false
		o := outcome{code: status.Code(err), duration: time.Since(c.start), startSeq: startSeq}
		if in.opts.Mode != BeforeResponse {
			in.rec.Enqueue(in.event(ctx, c, &o))
			return err
		}
		if !ws.seal(&o) {
			return errUnavailable
		}
		return err
	}
}

// start makes the start record durable; ok is false if the call is to
// be refused.
func (in *Interceptors) start(ctx context.Context, c call) (seq *uint64, ok bool) {
	ev := in.event(ctx, c, nil)
	ev.Kind += ".start"
	rc, err := in.rec.Seal(ctx, ev)
	if err != nil {
		if in.opts.FailClosed {
			in.refused.Add(1)
			return nil, false
		}
		return nil, true
	}
	return &rc.Seq, true
}

// stream holds a BeforeResponse stream's first header or message until
// its record is durable.
type stream struct {
	grpc.ServerStream
	in   *Interceptors
	c    call
	once sync.Once
	ok   bool // the stream may go on
}

// seal makes the record durable once, and reports whether the stream
// may send.
func (s *stream) seal(o *outcome) bool {
	s.once.Do(func() {
		_, err := s.in.rec.Seal(s.Context(), s.in.event(s.Context(), s.c, o))
		s.ok = err == nil || !s.in.opts.FailClosed
		if !s.ok {
			s.in.refused.Add(1)
		}
	})
	return s.ok
}

func (s *stream) early() bool {
	return s.seal(&outcome{duration: time.Since(s.c.start), streamed: true})
}

// SendHeader seals the record first.
func (s *stream) SendHeader(md metadata.MD) error {
	if !s.early() {
		return errUnavailable
	}
	return s.ServerStream.SendHeader(md)
}

// SendMsg seals the record first.
func (s *stream) SendMsg(m any) error {
	if !s.early() {
		return errUnavailable
	}
	return s.ServerStream.SendMsg(m)
}

// event builds the record of a call; o is nil for a start record.
func (in *Interceptors) event(ctx context.Context, c call, o *outcome) sealog.Event {
	md, _ := metadata.FromIncomingContext(ctx)
	p := map[string]any{
		"method": c.method,
		"time":   c.start.UTC().Format(time.RFC3339Nano),
		"stream": c.stream,
	}
	if pr, ok := peer.FromContext(ctx); ok && pr.Addr != nil {
		p["peer"] = pr.Addr.String()
		p["client_ip"] = recorder.ClientIP(pr.Addr.String(), md.Get("x-forwarded-for"), in.opts.TrustedProxies)
	}
	if ids := md.Get(in.opts.RequestIDKey); len(ids) > 0 {
		p["request_id"] = ids[0]
	}
	if in.opts.RecordMetadata && len(md) > 0 {
		m := make(map[string][]string, len(md))
		for k, vs := range md {
			if in.red[k] {
				r := make([]string, len(vs))
				for i := range r {
					r[i] = Redacted
				}
				vs = r
			}
			m[k] = vs
		}
		p["metadata"] = m
	}
	if o != nil {
		if o.streamed {
			p["streamed"] = true
		} else {
			p["code"] = o.code.String()
		}
		p["duration_ns"] = o.duration.Nanoseconds()
		if o.panicked {
			p["panicked"] = true
		}
		if o.startSeq != nil {
			p["start_seq"] = *o.startSeq
		}
	}
	ev := sealog.Event{Kind: in.opts.Kind, Resource: c.method, Payload: recorder.Encode(p)}
	if in.opts.User != nil {
		ev.Actor = in.opts.User(ctx)
	}
	return ev
}
