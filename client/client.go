package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/sealog/sealog"
)

// Config configures a Client. URL and VerifierKey are required.
type Config struct {
	// URL is the server's base URL, e.g. "https://audit.example.com".
	URL string
	// Token is the bearer token (role append to append, read to read).
	Token string
	// VerifierKey is the log's verifier key, pinned: every checkpoint the
	// server hands out must be signed by it, or by a key a checked
	// rotation record of the log hands over to from it (docs/KEYS.md).
	// Required.
	VerifierKey string
	// MoreKeys are more pinned keys of the same log: the keys it was, or
	// will be, rotated to (docs/KEYS.md). A checkpoint signed by any
	// pinned key is accepted, at any size, and the consistency proofs
	// between checkpoints are checked as always. The client needs none
	// of them to follow a rotation (see Keys); they are for a key known
	// beforehand by another channel.
	MoreKeys []string
	// Keys is a chain of keys followed before (Client.Keys, as an
	// auditor keeps it): the client starts from it instead of
	// VerifierKey alone. Its first key must be VerifierKey. The keys are
	// trusted as given; with StateFile, the file's chain is used instead
	// when it is longer.
	Keys []TrustedKey
	// Revocations are revocation statements (docs/KEYS.md) the client
	// honours: nothing the revoked key signs for a tree larger than the
	// statement's size is trusted, checkpoints and rotation records
	// alike. A statement counts if a RevocationKeys key signed it, or the
	// key the revoked one handed over to at or before that size (once the
	// client has followed that rotation); never the revoked key itself.
	Revocations [][]byte
	// RevocationKeys are the keys (an offline root key) whose revocation
	// statements the client honours.
	RevocationKeys []string
	// ReadToken, if set, is sent instead of Token with the client's read
	// requests (GET): the rotation records and proofs it fetches by
	// itself when Token has the append role only.
	ReadToken string
	// StateFile, if set, keeps the last checkpoint the client verified,
	// so that a log rolled back or forked while the client was not
	// running is caught at its first call. It is written durably, at
	// most once a second and at Close.
	StateFile string
	// HTTPClient sends the requests; nil means a client with a 30-second
	// timeout.
	HTTPClient *http.Client
	// MaxAttempts caps the tries of one request (network errors, 429,
	// 502, 503, 504 are retried, with the same Idempotency-Key). 0 means 6.
	MaxAttempts int
	// Backoff is the wait before the first retry, doubled at each (up to
	// 5 s), unless the server's Retry-After says more. 0 means 100 ms.
	Backoff time.Duration
	// Logger receives retries; nil is silent.
	Logger *slog.Logger
	// Rand makes the idempotency keys; nil means crypto/rand.
	Rand io.Reader

	// SpoolDir, if set, is a directory where AppendOrSpool keeps events
	// while the server cannot be reached (durably, in order, each batch
	// with its idempotency key), and from which a background sender
	// sends them when it is back.
	SpoolDir string
	// SpoolMaxBytes bounds the spool; past it AppendOrSpool fails with
	// ErrSpoolFull. 0 means 64 MiB.
	SpoolMaxBytes int64
	// SpoolInterval is how often the background sender tries the spool.
	// 0 means one second.
	SpoolInterval time.Duration
	// OnSpooled receives the checked receipts of each spooled batch once
	// the server acknowledged it; nil drops them.
	OnSpooled func([]sealog.Receipt)
}

// Client talks to a sealog server and checks everything it is told:
// every receipt's inclusion proof against its checkpoint, every
// checkpoint's signature against the pinned key, and the consistency of
// every checkpoint with the last one it trusted. Its methods are safe for
// concurrent use.
type Client struct {
	cfg      Config
	base     *url.URL
	hc       *http.Client
	verifier note.Verifier
	origin   string
	log      *slog.Logger
	revs     []revocation
	roots    []note.Verifier // Config.RevocationKeys

	mu      sync.Mutex // guards trusted, keys, savedAt, dirty
	trusted trusted
	keys    *keyState
	savedAt time.Time
	dirty   bool
	// followMu makes one call at a time follow the log's rotations.
	followMu sync.Mutex

	spool      *spool // nil without Config.SpoolDir
	stopSpool  chan struct{}
	spoolDone  chan struct{}
	closeSpool sync.Once
}

// New makes a Client. With Config.StateFile it reads the checkpoint
// and the chain of keys kept there; the checkpoint's signature must
// verify with a key of that chain.
func New(cfg Config) (*Client, error) {
	if cfg.URL == "" {
		return nil, errors.New("client: Config.URL is required")
	}
	u, err := url.Parse(strings.TrimRight(cfg.URL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: Config.URL %q is not an http or https URL", cfg.URL)
	}
	v, err := note.NewVerifier(cfg.VerifierKey)
	if err != nil {
		return nil, fmt.Errorf("client: Config.VerifierKey: %v", err)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 6
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 100 * time.Millisecond
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	lg := cfg.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	c := &Client{cfg: cfg, base: u, hc: cfg.HTTPClient, verifier: v, origin: v.Name(), log: lg}
	if err := c.initKeys(v, cfg); err != nil {
		return nil, err
	}
	if cfg.StateFile != "" {
		if err := c.loadState(); err != nil {
			return nil, err
		}
	}
	if cfg.SpoolDir != "" {
		if cfg.SpoolMaxBytes <= 0 {
			cfg.SpoolMaxBytes = 64 << 20
		}
		if cfg.SpoolInterval <= 0 {
			cfg.SpoolInterval = time.Second
		}
		c.cfg = cfg
		if c.spool, err = openSpool(cfg.SpoolDir, cfg.SpoolMaxBytes); err != nil {
			return nil, err
		}
		c.stopSpool, c.spoolDone = make(chan struct{}), make(chan struct{})
		go c.drain(cfg.SpoolInterval, c.stopSpool, c.spoolDone)
	}
	return c, nil
}

// Close stops the spool's background sender (what is spooled stays for
// the next Client) and saves the trusted checkpoint to the state file, if
// there is one.
func (c *Client) Close() error {
	if c.spool != nil {
		c.closeSpool.Do(func() { close(c.stopSpool); <-c.spoolDone })
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.saveLocked(true)
}

// APIError is an error answer of the server.
type APIError struct {
	Status  int    // the HTTP status
	Code    string // the server's error code ("bad_request", "forbidden", ...)
	Field   string // for a bad request: the field at fault
	Message string
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("server answered %d %s", e.Status, e.Code)
	if e.Field != "" {
		s += ": " + e.Field
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// ErrUnreachable is wrapped by the error of a request that could not
// reach the server in MaxAttempts tries (network errors, 5xx answers).
var ErrUnreachable = errors.New("the server cannot be reached")

// A Client records events as a local *sealog.Log does.
var _ sealog.Appender = (*Client)(nil)

// request is one API call.
type request struct {
	method, path string
	query        url.Values
	body         []byte
	header       http.Header
}

// do sends req, retrying what is safe to retry, and returns the body of
// a 2xx answer.
func (c *Client) do(ctx context.Context, req request) ([]byte, http.Header, error) {
	u := *c.base
	u.Path += req.path
	u.RawQuery = req.query.Encode()
	var last error
	wait := c.cfg.Backoff
	for attempt := 1; ; attempt++ {
		body, hdr, retryAfter, err := c.once(ctx, req, u.String())
		if err == nil {
			return body, hdr, nil
		}
		last = err
		var ae *APIError
		retriable := !errors.As(err, &ae) || ae.Status == 429 || ae.Status == 409 && ae.Code == "idempotency_in_flight" ||
			ae.Status == 502 || ae.Status == 503 || ae.Status == 504
		if !retriable || attempt >= c.cfg.MaxAttempts || ctx.Err() != nil {
			break
		}
		d := max(wait, retryAfter)
		c.log.Info("retrying a request", "path", req.path, "attempt", attempt, "wait", d, "err", err)
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
		wait = min(2*wait, 5*time.Second)
	}
	var ae *APIError
	if errors.As(last, &ae) && ae.Status < 500 {
		return nil, nil, last
	}
	return nil, nil, fmt.Errorf("client: %w: %v", ErrUnreachable, last)
}

func (c *Client) once(ctx context.Context, req request, u string) ([]byte, http.Header, time.Duration, error) {
	var body io.Reader
	if req.body != nil {
		body = bytes.NewReader(req.body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, u, body)
	if err != nil {
		return nil, nil, 0, err
	}
	for k, v := range req.header {
		hr.Header[k] = v
	}
	if req.body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	token := c.cfg.Token
	if req.method == "GET" && c.cfg.ReadToken != "" {
		token = c.cfg.ReadToken
	}
	if token != "" {
		hr.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.hc.Do(hr)
	if err != nil {
		return nil, nil, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, nil, 0, fmt.Errorf("reading the answer: %w", err)
	}
	if resp.StatusCode/100 == 2 {
		return b, resp.Header, 0, nil
	}
	ae := &APIError{Status: resp.StatusCode}
	var eb struct {
		Error, Code, Field string
	}
	if json.Unmarshal(b, &eb) == nil {
		ae.Code, ae.Field, ae.Message = eb.Code, eb.Field, eb.Error
	} else {
		ae.Message = strings.TrimSpace(string(b[:min(len(b), 200)]))
	}
	var ra time.Duration
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
		ra = time.Duration(math.Min(float64(s), 60)) * time.Second
	}
	return nil, nil, ra, ae
}
