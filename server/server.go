package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/store"
)

// Server is the sealog HTTP API over one Log: an http.Handler. Make one
// with New; it is safe for concurrent use.
type Server struct {
	cfg     Config
	log     *sealog.Log
	st      store.Store
	mux     *http.ServeMux
	m       *metrics
	gather  prometheus.Gatherer
	idem    *idemStore
	limiter *limiter
	lg      *slog.Logger
	closing atomic.Bool
}

// New makes a Server for cfg. It opens (and, after a crash, settles) the
// idempotency journal, which reads the log.
func New(ctx context.Context, cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Log, st: cfg.Log.Store(), mux: http.NewServeMux(), lg: cfg.Logger,
		limiter: newLimiter(cfg.RateLimit, cfg.RateBurst)}
	reg, gather := cfg.Registerer, cfg.Gatherer
	if reg == nil {
		r := prometheus.NewRegistry()
		reg = r
	}
	if gather == nil {
		if g, ok := reg.(prometheus.Gatherer); ok {
			gather = g
		} else {
			return nil, fmt.Errorf("server: Config.Gatherer is required with a Registerer that is not a Gatherer")
		}
	}
	s.gather = gather
	if s.m, err = newMetrics(reg, cfg.Log); err != nil {
		return nil, fmt.Errorf("server: registering metrics: %w", err)
	}
	if shared, ok := s.st.(store.IdempotencyKeys); ok && !cfg.LocalIdempotency {
		s.idem = &idemStore{ttl: cfg.IdempotencyTTL, log: cfg.Logger, shared: shared, st: s.st,
			commitTimeout: cfg.CommitTimeout, claims: map[string]time.Time{}}
	} else if s.idem, err = openIdem(ctx, cfg.IdempotencyFile, cfg.IdempotencyKeys, cfg.IdempotencyTTL, s.st, cfg.Logger, cfg.Clock()); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	read := RoleRead
	if cfg.PublicReads {
		read = ""
	}
	metricsRole := RoleAdmin
	if cfg.PublicMetrics {
		metricsRole = ""
	}
	s.route("POST /v1/entries", RoleAppend, s.handleAppend)
	s.route("GET /v1/entries", read, s.handleEntries)
	s.route("GET /v1/entries/{seq}", read, s.handleEntry)
	s.route("GET /v1/proof/inclusion", read, s.handleInclusion)
	s.route("GET /v1/proof/consistency", read, s.handleConsistency)
	s.route("GET /checkpoint", read, s.handleCheckpoint)
	s.route("GET /tile/{path...}", read, s.handleTile)
	s.route("GET /healthz", "", s.handleHealth)
	s.route("GET /readyz", "", s.handleReady)
	s.route("GET /openapi.yaml", "", s.handleOpenAPI)
	prom := promhttp.HandlerFor(gather, promhttp.HandlerOpts{})
	s.route("GET /metrics", metricsRole, func(w http.ResponseWriter, r *http.Request, _ TokenInfo) { prom.ServeHTTP(w, r) })
	s.route("/", "", func(w http.ResponseWriter, r *http.Request, _ TokenInfo) {
		s.fail(w, r, notFound("no such endpoint: %s %s (see /openapi.yaml)", r.Method, r.URL.Path))
	})
	return s, nil
}

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Close makes later appends fail with 503 and /readyz report not ready,
// then flushes and closes the idempotency journal. Call it after the
// HTTP server's Shutdown has drained the requests in flight, and before
// Log.Shutdown. It does not close the Log.
func (s *Server) Close() error {
	if !s.closing.CompareAndSwap(false, true) {
		return nil
	}
	if err := s.idem.close(); err != nil {
		return fmt.Errorf("server: closing the idempotency journal: %w", err)
	}
	return nil
}

// handlerFunc is an endpoint: it gets the authenticated token (zero for
// a public endpoint).
type handlerFunc func(w http.ResponseWriter, r *http.Request, tok TokenInfo)

// statusWriter records the status an endpoint answered.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// route registers h at pattern, behind authentication for role need
// ("" for a public endpoint), the per-token rate limit and the HTTP
// metrics, whose route label is the pattern.
func (s *Server) route(pattern string, need Role, h handlerFunc) {
	label := pattern
	if _, p, ok := strings.Cut(pattern, " "); ok {
		label = p
	}
	if label == "/" {
		label = "other"
	}
	count := s.m.httpLatency.WithLabelValues(label)
	var byCode sync.Map // status code → its counter, found once, not at every request
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			code := sw.status
			if code == 0 {
				code = http.StatusOK
			}
			c, ok := byCode.Load(code)
			if !ok {
				c, _ = byCode.LoadOrStore(code, s.m.http.WithLabelValues(label, strconv.Itoa(code)))
			}
			c.(prometheus.Counter).Inc()
			count.Observe(time.Since(start).Seconds())
		}()
		var tok TokenInfo
		if need != "" {
			var aerr *apiError
			if tok, aerr = s.authenticate(r, need); aerr != nil {
				s.fail(sw, r, aerr)
				return
			}
			if ok, wait := s.limiter.allow(tok.ID, s.cfg.Clock()); !ok {
				s.fail(sw, r, &apiError{status: http.StatusTooManyRequests, code: "rate_limited",
					msg: "this token's rate limit is reached; retry after the time in Retry-After", retryAfter: wait})
				return
			}
		}
		h(sw, r, tok)
	})
}

// authenticate checks the request's bearer token for role need.
func (s *Server) authenticate(r *http.Request, need Role) (TokenInfo, *apiError) {
	if err := s.cfg.Tokens.refresh(s.cfg.Clock()); err != nil {
		s.lg.Warn("rereading the tokens file failed; using the tokens read before", "err", err)
	}
	auth := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return TokenInfo{}, errUnauthorized
	}
	tok, ok := s.cfg.Tokens.Authenticate(strings.TrimSpace(token))
	if !ok {
		return TokenInfo{}, errUnauthorized
	}
	if !tok.Role.allows(need) {
		return tok, forbidden(need)
	}
	return tok, nil
}

// fail answers err, counts it and logs it (never with a token: only the
// request's method, path and remote address, and the error).
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err *apiError) {
	s.m.errors.WithLabelValues(err.code).Inc()
	lvl := slog.LevelDebug
	if err.status >= 500 {
		lvl = slog.LevelError
	}
	s.lg.Log(r.Context(), lvl, "request failed", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr,
		"status", err.status, "code", err.code, "field", err.field, "err", err.msg)
	writeError(w, err)
}
