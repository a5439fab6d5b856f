package sealgrpc_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/integrations/internal/itest"
	"github.com/sealog/sealog/integrations/sealgrpc"
)

// serve runs a real gRPC server with the health service on a loopback
// port, behind the interceptors, and returns a client.
func serve(t *testing.T, in *sealgrpc.Interceptors) healthpb.HealthClient {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.ChainUnaryInterceptor(in.Unary()), grpc.ChainStreamInterceptor(in.Stream()))
	hs := health.NewServer()
	hs.SetServingStatus("billing", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(srv, hs)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return healthpb.NewHealthClient(conn)
}

func user(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	if u := md.Get("x-user"); len(u) > 0 {
		return u[0]
	}
	return ""
}

func TestUnary(t *testing.T) {
	for _, mode := range []sealgrpc.Mode{sealgrpc.BeforeResponse, sealgrpc.BeforeHandler, sealgrpc.Async} {
		t.Run(modeName(mode), func(t *testing.T) {
			l, _ := itest.Open(t)
			in := sealgrpc.New(l, sealgrpc.Options{
				Mode: mode, User: user, RecordMetadata: true,
				TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
			})
			hc := serve(t, in)
			ctx := metadata.AppendToOutgoingContext(itest.Context(t),
				"x-user", "alice@example.com", "authorization", "Bearer sealog_secret", "x-request-id", "req-9", "x-forwarded-for", "203.0.113.4")
			if _, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: "billing"}); err != nil {
				t.Fatal(err)
			}
			_, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: "nope"})
			if status.Code(err) != codes.NotFound {
				t.Fatalf("unknown service: %v", err)
			}
			if err := in.Close(itest.Context(t)); err != nil {
				t.Fatal(err)
			}
			var calls []map[string]any
			for _, e := range itest.Entries(t, l) {
				if strings.Contains(string(e.Payload), "sealog_secret") {
					t.Errorf("the token was recorded: %s", e.Payload)
				}
				if e.Kind == "grpc.call.start" {
					continue
				}
				if e.Kind != "grpc.call" || e.Actor != "alice@example.com" || e.Resource != "/grpc.health.v1.Health/Check" {
					t.Errorf("entry %d: kind %q actor %q resource %q", e.Seq, e.Kind, e.Actor, e.Resource)
				}
				calls = append(calls, itest.Payload(t, e))
			}
			if len(calls) != 2 {
				t.Fatalf("%d call records", len(calls))
			}
			// Except in BeforeResponse mode a call's record is appended
			// after its response, asynchronously, so two calls' records
			// may be in the log in either order: take them in the order
			// the calls started.
			slices.SortFunc(calls, func(a, b map[string]any) int {
				ta, _ := time.Parse(time.RFC3339Nano, a["time"].(string))
				tb, _ := time.Parse(time.RFC3339Nano, b["time"].(string))
				return ta.Compare(tb)
			})
			for i, want := range []string{"OK", "NotFound"} {
				p := calls[i]
				if p["code"] != want || p["request_id"] != "req-9" || p["client_ip"] != "203.0.113.4" || p["method"] != "/grpc.health.v1.Health/Check" {
					t.Errorf("call %d: %v", i, p)
				}
				if !strings.HasPrefix(p["peer"].(string), "127.0.0.1:") || p["duration_ns"].(float64) <= 0 {
					t.Errorf("call %d: peer %v duration %v", i, p["peer"], p["duration_ns"])
				}
				if mode == sealgrpc.BeforeHandler && p["start_seq"] == nil {
					t.Errorf("call %d: no start_seq", i)
				}
				if md := p["metadata"].(map[string]any); md["authorization"].([]any)[0] != sealgrpc.Redacted {
					t.Errorf("metadata %v", md)
				}
			}
		})
	}
}

func modeName(m sealgrpc.Mode) string {
	return [...]string{"before-response", "before-handler", "async"}[m]
}

// TestStream: a BeforeResponse stream's record is durable before its
// first message reaches the client.
func TestStream(t *testing.T) {
	l, _ := itest.Open(t)
	in := sealgrpc.New(l, sealgrpc.Options{})
	hc := serve(t, in)
	ctx, cancel := context.WithCancel(itest.Context(t))
	w, err := hc.Watch(ctx, &healthpb.HealthCheckRequest{Service: "billing"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Recv(); err != nil {
		t.Fatal(err)
	}
	// The first message arrived: its record must already be in the log.
	es := itest.Entries(t, l)
	if len(es) != 1 || es[0].Resource != "/grpc.health.v1.Health/Watch" {
		t.Fatalf("entries %v", es)
	}
	p := itest.Payload(t, es[0])
	if p["streamed"] != true || p["stream"] != true {
		t.Errorf("payload %v", p)
	}
	cancel()
	if _, err := w.Recv(); err == io.EOF || err == nil {
		t.Fatalf("after cancel: %v", err)
	}
}

// TestFailClosed: the call fails with Unavailable and its reply is not
// sent; the failure is counted and reported.
func TestFailClosed(t *testing.T) {
	for _, tc := range []struct {
		mode       sealgrpc.Mode
		failClosed bool
		want       codes.Code
		stream     bool
	}{
		{sealgrpc.BeforeResponse, true, codes.Unavailable, false},
		{sealgrpc.BeforeHandler, true, codes.Unavailable, false},
		{sealgrpc.BeforeResponse, false, codes.OK, false},
		{sealgrpc.BeforeResponse, true, codes.Unavailable, true},
		{sealgrpc.BeforeHandler, true, codes.Unavailable, true},
	} {
		name := modeName(tc.mode)
		if tc.stream {
			name += "/stream"
		}
		if !tc.failClosed {
			name += "/fail-open"
		}
		t.Run(name, func(t *testing.T) {
			var reported atomic.Int64
			down := errors.New("disk on fire")
			in := sealgrpc.New(itest.Failing{Err: down}, sealgrpc.Options{Mode: tc.mode, FailClosed: tc.failClosed,
				OnError: func(err error, ev sealog.Event) {
					if errors.Is(err, down) {
						reported.Add(1)
					}
				}})
			hc := serve(t, in)
			var err error
			if tc.stream {
				var w healthpb.Health_WatchClient
				w, err = hc.Watch(itest.Context(t), &healthpb.HealthCheckRequest{Service: "billing"})
				if err == nil {
					_, err = w.Recv()
				}
			} else {
				var r *healthpb.HealthCheckResponse
				r, err = hc.Check(itest.Context(t), &healthpb.HealthCheckRequest{Service: "billing"})
				if err != nil && r != nil {
					t.Errorf("a reply came with the error")
				}
			}
			if status.Code(err) != tc.want {
				t.Fatalf("call: %v, want %v", err, tc.want)
			}
			if reported.Load() < 1 || in.Stats().Failed < 1 {
				t.Errorf("reported %d, stats %+v", reported.Load(), in.Stats())
			}
			if (in.Stats().Refused > 0) != tc.failClosed {
				t.Errorf("stats %+v", in.Stats())
			}
		})
	}
}

func TestSkip(t *testing.T) {
	l, _ := itest.Open(t)
	in := sealgrpc.New(l, sealgrpc.Options{Skip: []string{"/grpc.health.v1.Health/Check"}})
	hc := serve(t, in)
	if _, err := hc.Check(itest.Context(t), &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}
	if es := itest.Entries(t, l); len(es) != 0 || in.Stats().Calls != 0 {
		t.Errorf("skipped call recorded: %v", es)
	}
}
