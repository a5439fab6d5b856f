package server

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sealog/sealog"
)

// Config configures a Server. Log and Tokens are required; every other
// field has a documented default for its zero value.
type Config struct {
	// Log is the log the server appends to and reads from. It must be
	// open for writing. The server never closes it: the caller shuts the
	// HTTP server down, then calls Server.Close, then Log.Shutdown.
	Log *sealog.Log

	// Tokens holds the bearer tokens and their roles (a tokens file, see
	// OpenTokens). Required.
	Tokens *Tokens

	// PublicReads serves the read endpoints (entries, proofs, checkpoint,
	// tiles) without a token, for a transparency log. Off by default:
	// reads need a token with the read (or admin) role.
	PublicReads bool

	// PublicMetrics serves /metrics without a token. Off by default:
	// /metrics needs a token with the admin role.
	PublicMetrics bool

	// IdempotencyFile is where Idempotency-Key records are kept durably
	// (a JSON-lines journal, see docs/API.md). Empty keeps them in memory
	// only: a retry after a server restart may then append twice. Over a
	// store that keeps keys for every server of the log
	// (store.IdempotencyKeys: PostgreSQL) the keys are kept there instead,
	// and the file is not used, unless LocalIdempotency.
	IdempotencyFile string
	// LocalIdempotency keeps the keys in IdempotencyFile even over a store
	// that could share them: for a log with a single server.
	LocalIdempotency bool
	// IdempotencyKeys caps the keys remembered; the oldest are forgotten
	// first. 0 means 100,000.
	IdempotencyKeys int
	// IdempotencyTTL is how long a key is remembered. 0 means 24 hours.
	IdempotencyTTL time.Duration

	// MaxBodyBytes caps a request body. 0 means 8 MiB.
	MaxBodyBytes int64
	// MaxEvents caps the events in one POST /v1/entries. 0 means 10,000.
	MaxEvents int
	// MaxEventSize caps one event's canonical encoding; it should not be
	// above the log's Options.MaxEventSize. 0 means 1 MiB.
	MaxEventSize int
	// MaxDepth caps the nesting of a request body (the array of events
	// and the event object count as levels). 0 means 32.
	MaxDepth int
	// MaxPageSize caps the entries one GET /v1/entries returns. 0 means
	// 1,000.
	MaxPageSize int

	// RateLimit is the requests per second each token may make (a token
	// bucket of RateBurst requests); past it the server answers 429 with
	// Retry-After. 0 means no limit. Unauthenticated public reads are not
	// limited here: put a proxy in front for that.
	RateLimit float64
	// RateBurst is the token bucket's size. 0 means max(1, RateLimit).
	RateBurst int

	// CommitTimeout bounds how long an append request waits for its
	// commit, which continues even when the client goes away, so that its
	// idempotency record is kept. 0 means 2 minutes.
	CommitTimeout time.Duration

	// Registerer receives the server's Prometheus metrics; nil makes a
	// new registry, served at /metrics. (With a shared registry, serve it
	// yourself: /metrics serves Gatherer.)
	Registerer prometheus.Registerer
	// Gatherer is what /metrics serves; nil means the registry made for
	// Registerer, or Registerer itself when it is a *prometheus.Registry.
	Gatherer prometheus.Gatherer

	// Logger receives one line per failed request and the server's
	// reports; nil is silent. No log line carries a token or a key.
	Logger *slog.Logger

	// Clock returns the time, for rate limits and idempotency expiry; nil
	// means time.Now.
	Clock func() time.Time
}

// Defaults for the zero values of Config.
const (
	DefaultMaxBodyBytes    = 8 << 20
	DefaultMaxEvents       = 10000
	DefaultMaxEventSize    = 1 << 20
	DefaultMaxDepth        = 32
	DefaultMaxPageSize     = 1000
	DefaultIdempotencyKeys = 100000
	DefaultIdempotencyTTL  = 24 * time.Hour
	DefaultCommitTimeout   = 2 * time.Minute
)

// withDefaults checks c and fills in its defaults.
func (c Config) withDefaults() (Config, error) {
	if c.Log == nil {
		return c, errors.New("server: Config.Log is required")
	}
	if c.Tokens == nil {
		return c, errors.New("server: Config.Tokens is required")
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.MaxEvents, DefaultMaxEvents)
	def(&c.MaxEventSize, DefaultMaxEventSize)
	def(&c.MaxDepth, DefaultMaxDepth)
	def(&c.MaxPageSize, DefaultMaxPageSize)
	def(&c.IdempotencyKeys, DefaultIdempotencyKeys)
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.IdempotencyTTL <= 0 {
		c.IdempotencyTTL = DefaultIdempotencyTTL
	}
	if c.CommitTimeout <= 0 {
		c.CommitTimeout = DefaultCommitTimeout
	}
	if c.MaxDepth < 3 {
		return c, fmt.Errorf("server: Config.MaxDepth %d leaves no room for a payload", c.MaxDepth)
	}
	if c.RateLimit < 0 {
		return c, fmt.Errorf("server: Config.RateLimit %v is negative", c.RateLimit)
	}
	if c.RateBurst <= 0 {
		c.RateBurst = max(1, int(c.RateLimit))
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	return c, nil
}
