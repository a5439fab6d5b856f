// Auditservice is a small invoice service with a tamper-evident audit
// trail from every integration: the net/http middleware records each
// request, a slog handler seals the service's own audit records, and the
// gRPC interceptors record each call of its health service. The log is
// local (a directory, checked at start-up) or remote (a 'sealog serve').
//
//	sealog keygen -o audit.key --name example.com/invoices
//	go run ./examples/auditservice -log audit-log -key audit.key
//	curl -X POST -H 'X-User: alice' localhost:8081/invoices/42/approve
//	sealog verify audit-log --key audit.key.pub --checkpoint audit-log.state
//
// or, against a server:
//
//	sealog serve --data sealog-data &     # prints its verifier key and admin token
//	SEALOG_TOKEN=sealog_... go run ./examples/auditservice -server http://127.0.0.1:8080 -verifier-key 'origin+hash+key'
//
// It prints "http on ADDR" and "grpc on ADDR" once it listens, and stops
// cleanly on SIGTERM or SIGINT: it drains the requests, the queued audit
// records and the log.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/client"
	"github.com/sealog/sealog/integrations/sealgrpc"
	"github.com/sealog/sealog/integrations/sealhttp"
	"github.com/sealog/sealog/integrations/sealslog"
	"github.com/sealog/sealog/integrity"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "auditservice:", err)
		os.Exit(1)
	}
}

func run() error {
	logDir := flag.String("log", "", "the local log's directory")
	keyFile := flag.String("key", "", "the local log's signer key file (sealog keygen)")
	state := flag.String("state", "", "the start-up check's state file (default DIR.state)")
	server := flag.String("server", "", "a 'sealog serve' URL, instead of a local log (token in $SEALOG_TOKEN)")
	vkey := flag.String("verifier-key", "", "the server's verifier key (with -server)")
	httpAddr := flag.String("http", "127.0.0.1:8081", "the HTTP address")
	grpcAddr := flag.String("grpc", "127.0.0.1:8082", "the gRPC address")
	flag.Parse()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))

	// The audit log: local or remote, one sealog.Appender either way.
	var audit sealog.Appender
	switch {
	case *logDir != "" && *server == "":
		key, err := sealog.LoadKey(*keyFile)
		if err != nil {
			return err
		}
		if *state == "" {
			*state = *logDir + ".state"
		}
		l, err := sealog.Open(*logDir, sealog.Options{Key: key, Logger: logger, Check: integrity.Startup(integrity.Options{
			StateFile: *state, Logger: logger,
		})})
		if err != nil {
			return err
		}
		defer l.Close()
		audit = l
	case *server != "" && *logDir == "":
		c, err := client.New(client.Config{URL: *server, Token: os.Getenv("SEALOG_TOKEN"), VerifierKey: *vkey, Logger: logger})
		if err != nil {
			return err
		}
		defer c.Close()
		audit = c
	default:
		return errors.New("give -log DIR -key FILE, or -server URL -verifier-key KEY")
	}

	// slog: the service's audit records are sealed, and still printed.
	records := sealslog.New(audit, &sealslog.Options{ActorKey: "user", ResourceKey: "invoice", Next: logger.Handler()})
	alog := slog.New(records)

	// net/http: every request recorded; mutating ones before their
	// response goes out, refused with 503 if the record cannot be made.
	mux := http.NewServeMux()
	inv := &invoices{approved: map[string]string{}, log: alog}
	mux.HandleFunc("POST /invoices/{id}/approve", inv.approve)
	mux.HandleFunc("GET /invoices/{id}", inv.get)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	mw := sealhttp.New(audit, sealhttp.Options{
		FailClosed: true, Mux: mux, Skip: []string{"/healthz"}, Logger: logger, User: userOf,
	})
	hs := &http.Server{Handler: mw.Handler(mux), ReadHeaderTimeout: 10 * time.Second}

	// gRPC: the health service, each call recorded.
	gi := sealgrpc.New(audit, sealgrpc.Options{Logger: logger})
	gs := grpc.NewServer(grpc.ChainUnaryInterceptor(gi.Unary()), grpc.ChainStreamInterceptor(gi.Stream()))
	healthpb.RegisterHealthServer(gs, health.NewServer())

	hl, err := net.Listen("tcp", *httpAddr)
	if err != nil {
		return err
	}
	gl, err := net.Listen("tcp", *grpcAddr)
	if err != nil {
		return err
	}
	// Signals are caught before the addresses are printed: whoever waits
	// for them may stop the service at once.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	fmt.Println("http on", hl.Addr())
	fmt.Println("grpc on", gl.Addr())
	errc := make(chan error, 2)
	go func() { errc <- hs.Serve(hl) }()
	go func() { errc <- gs.Serve(gl) }()

	select {
	case s := <-sig:
		logger.Info("stopping", "signal", s.String())
	case err := <-errc:
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hs.Shutdown(ctx)
	gs.GracefulStop()
	// Drain the queued records before the log closes (deferred above).
	err = errors.Join(mw.Close(ctx), gi.Close(ctx), records.Close(ctx))
	fmt.Printf("stopped: http %+v, grpc %+v, slog %+v\n", mw.Stats(), gi.Stats(), records.Stats())
	return err
}

// userOf is the request's user. A real service takes it from its
// authentication; the example trusts a header.
func userOf(r *http.Request) string { return r.Header.Get("X-User") }

// invoices is the service's state.
type invoices struct {
	mu       sync.Mutex
	approved map[string]string // id → approver
	log      *slog.Logger
}

func (s *invoices) approve(w http.ResponseWriter, r *http.Request) {
	id, user := r.PathValue("id"), userOf(r)
	if user == "" {
		http.Error(w, "no X-User", http.StatusUnauthorized)
		return
	}
	s.mu.Lock()
	s.approved[id] = user
	s.mu.Unlock()
	s.log.InfoContext(r.Context(), "invoice.approve", "user", user, "invoice", "invoice/"+id,
		slog.Group("request", "id", r.Header.Get("X-Request-Id")))
	fmt.Fprintf(w, "invoice %s approved by %s\n", id, user)
}

func (s *invoices) get(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	by, ok := s.approved[r.PathValue("id")]
	s.mu.Unlock()
	if !ok {
		http.Error(w, "not approved", http.StatusNotFound)
		return
	}
	fmt.Fprintf(w, "approved by %s\n", by)
}
