// Package witnessclient is a log's side of the C2SP tlog-witness protocol:
// it submits the log's checkpoints to the witnesses of a policy
// (package policy), each with a consistency proof from the size that
// witness cosigned last, and keeps the cosignatures they return.
//
// A Client runs in its own goroutine (Run). After each batch the log's
// writer calls Notify; the client then takes the log's head and submits
// its checkpoint to every witness at once, in one round. A witness that
// answers 409 names the size it cosigned last, and the client retries
// from there. Appends never wait for witnesses: Notify never blocks, and
// a round waits for a slow witness at most Config.Timeout. A witness that
// fails is tried again after a growing pause (up to Config.MaxBackoff)
// while the others go on.
//
// The newest checkpoint whose cosignatures make up the policy's quorum is
// kept (Latest) and written, with its cosignatures, to Config.StateFile,
// atomically, so that verifiers and 'sealog checkpoint' find it.
package witnessclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/internal/durable"
	"github.com/sealog/sealog/policy"
)

// Source is the log whose checkpoints are submitted; *sealog.Log is one.
type Source interface {
	// Head returns the log's latest signed checkpoint.
	Head(ctx context.Context) (sealog.Head, error)
	// ConsistencyProof proves the tree of oldSize a prefix of newSize's.
	ConsistencyProof(ctx context.Context, oldSize, newSize uint64) (tlog.TreeProof, error)
}

// Config configures a Client. Policy and Source are required.
type Config struct {
	// Policy names the witnesses (those with a URL are submitted to) and
	// the quorum.
	Policy *policy.Policy
	// Source is the log.
	Source Source
	// StateFile keeps the newest checkpoint with a quorum of
	// cosignatures (a signed note); "" keeps it in memory only. An
	// existing file is read at New, so a restarted log starts from it.
	StateFile string
	// Timeout bounds one request to one witness; 0 means 10 seconds. It
	// is the most a round waits for a slow witness.
	Timeout time.Duration
	// Interval is how often the client submits without a Notify (to
	// retry witnesses and follow other writers of a shared store); 0
	// means 5 seconds.
	Interval time.Duration
	// MaxBackoff caps the pause before a failed witness is tried again;
	// 0 means one minute.
	MaxBackoff time.Duration
	// HTTPClient makes the requests; nil means a client with keep-alive.
	HTTPClient *http.Client
	// Registerer receives the metrics (see docs/WITNESS.md); nil
	// registers none.
	Registerer prometheus.Registerer
	// Logger receives failures and refusals; nil is silent.
	Logger *slog.Logger
	// Clock is the time; nil means time.Now.
	Clock func() time.Time
}

// Client submits a log's checkpoints to witnesses. Make one with New and
// run it with Run; its methods are safe for concurrent use.
type Client struct {
	cfg    Config
	ws     []*witnessState
	notify chan struct{}
	m      *metrics

	mu      sync.Mutex  // guards the fields below
	head    sealog.Head // the checkpoint of the last round
	current []byte      // head's note with the cosignatures collected for it
	latest  []byte      // the newest note with a quorum
	verdict *policy.Verdict
	changed chan struct{} // closed and replaced when latest changes
}

// witnessState is what the client knows of one witness; only its round
// goroutine touches it, between rounds the client's mu guards it.
type witnessState struct {
	w       *policy.Witness
	size    uint64 // the size it cosigned last, as far as we know
	root    tlog.Hash
	line    []byte // its cosignature line on (size, root)
	retryAt time.Time
	backoff time.Duration
	lastOK  time.Time
}

// New checks cfg and returns its Client, with the state file's checkpoint
// (if any) as its latest.
func New(cfg Config) (*Client, error) {
	if cfg.Policy == nil || cfg.Source == nil {
		return nil, errors.New("witnessclient: Config.Policy and Config.Source are required")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 5 * time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = time.Minute
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2, IdleConnTimeout: 2 * time.Minute}}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	c := &Client{cfg: cfg, notify: make(chan struct{}, 1), changed: make(chan struct{})}
	for _, w := range cfg.Policy.Witnesses {
		if w.URL != "" {
			c.ws = append(c.ws, &witnessState{w: w})
		}
	}
	if len(c.ws) == 0 {
		return nil, errors.New("witnessclient: the policy gives no witness a URL to submit to")
	}
	var err error
	if c.m, err = newMetrics(cfg.Registerer, c.ws); err != nil {
		return nil, fmt.Errorf("witnessclient: registering metrics: %w", err)
	}
	if cfg.StateFile != "" {
		b, err := os.ReadFile(cfg.StateFile)
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			return nil, fmt.Errorf("witnessclient: %w", err)
		default:
			vd, err := cfg.Policy.Check(b, nil)
			if err != nil {
				cfg.Logger.Warn("the witnessed checkpoint file does not satisfy the policy; ignoring it", "file", cfg.StateFile, "err", err)
			} else {
				c.latest, c.verdict = b, vd
				c.seed(b, vd)
			}
		}
	}
	return c, nil
}

// seed starts each witness from its cosignature in a kept note.
func (c *Client) seed(b []byte, vd *policy.Verdict) {
	n, err := checkpoint.ParseNote(b)
	if err != nil {
		return
	}
	for _, ws := range c.ws {
		for _, v := range vd.Vouched {
			if v.Witness == ws.w {
				ws.size, ws.root = vd.Checkpoint.Size, vd.Checkpoint.Root
				ws.line = cosigLine(n, ws.w)
			}
		}
	}
}

// Notify tells the client that the log has grown. It never blocks.
func (c *Client) Notify() {
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// Run submits checkpoints until ctx ends: a round at each Notify, and one
// every Config.Interval.
func (c *Client) Run(ctx context.Context) {
	t := time.NewTicker(c.cfg.Interval)
	defer t.Stop()
	for {
		c.Round(ctx)
		select {
		case <-ctx.Done():
			return
		case <-c.notify:
		case <-t.C:
		}
	}
}

// Round submits the log's current checkpoint to every witness due, at
// once, and waits for their answers (each within Config.Timeout). Run
// calls it; tests and one-shot tools may call it directly, but never
// while Run runs (a witness's state belongs to one round at a time).
func (c *Client) Round(ctx context.Context) {
	h, err := c.cfg.Source.Head(ctx)
	if err != nil {
		c.cfg.Logger.Warn("witnesses: reading the log's head", "err", err)
		return
	}
	if h.Size == 0 {
		return
	}
	ck, err := checkpoint.ParseUnverified(h.Checkpoint.Note)
	if err != nil {
		c.cfg.Logger.Error("witnesses: the log's checkpoint", "err", err)
		return
	}
	now := c.cfg.Clock()
	var wg sync.WaitGroup
	for _, ws := range c.ws {
		c.m.lag.WithLabelValues(ws.w.Name).Set(float64(h.Size - min(h.Size, ws.size)))
		if ws.size == ck.Size && ws.root == ck.Root && ws.line != nil {
			continue
		}
		if now.Before(ws.retryAt) {
			continue
		}
		wg.Go(func() { c.submit(ctx, ws, h, ck) })
	}
	wg.Wait()
	c.collect(h, ck)
}

// collect assembles the head's note with every cosignature on it, and
// keeps it as the latest if it makes up the quorum.
func (c *Client) collect(h sealog.Head, ck checkpoint.Checkpoint) {
	note := bytes.Clone(h.Checkpoint.Note)
	for _, ws := range c.ws {
		c.m.lag.WithLabelValues(ws.w.Name).Set(float64(h.Size - min(h.Size, ws.size)))
		if ws.size == ck.Size && ws.root == ck.Root && ws.line != nil {
			note = append(note, ws.line...)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.head, c.current = h, note
	vd, err := c.cfg.Policy.Check(note, nil)
	if err != nil || (c.verdict != nil && vd.Checkpoint.Size <= c.verdict.Checkpoint.Size) {
		return
	}
	if c.cfg.StateFile != "" {
		if err := durable.WriteFile(c.cfg.StateFile, note, 0o644); err != nil {
			c.cfg.Logger.Error("witnesses: writing the witnessed checkpoint", "file", c.cfg.StateFile, "err", err)
		}
	}
	c.latest, c.verdict = note, vd
	c.m.quorumSize.Set(float64(vd.Checkpoint.Size))
	close(c.changed)
	c.changed = make(chan struct{})
}

// Cosigned returns the log's checkpoint of the given size with the
// cosignatures collected on it, or nil when the client has none for that
// size.
func (c *Client) Cosigned(size uint64) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.latest != nil && c.verdict.Checkpoint.Size == size {
		return c.latest
	}
	if c.current != nil && c.head.Size == size && !bytes.Equal(c.current, c.head.Checkpoint.Note) {
		return c.current
	}
	return nil
}

// Latest returns the newest checkpoint whose cosignatures make up the
// quorum, and its verdict; nil if there is none yet.
func (c *Client) Latest() ([]byte, *policy.Verdict) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.latest, c.verdict
}

// Wait waits until a checkpoint of at least size entries has the
// quorum's cosignatures and returns it, or returns ctx's error.
func (c *Client) Wait(ctx context.Context, size uint64) ([]byte, error) {
	for {
		c.mu.Lock()
		latest, vd, ch := c.latest, c.verdict, c.changed
		c.mu.Unlock()
		if vd != nil && vd.Checkpoint.Size >= size {
			return latest, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
