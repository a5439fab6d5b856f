package auditor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/mod/sumdb/note"

	storeopen "github.com/sealog/sealog/store/open"
	"github.com/sealog/sealog/verify"
)

// Log is one log to watch.
type Log struct {
	// Name is where the log is: a directory, a postgres:// or
	// postgresql:// URL, a sqlite: URL, or a server's http:// or https://
	// base URL.
	Name string
	// Key is the log's verifier key (note verifier key text), from the
	// auditor's own records. Required: the auditor trusts nothing the log
	// says about itself, its key included.
	Key string
	// Token is a bearer token with the read role, for a server that wants
	// one.
	Token string

	kind string
	id   string // the name in the state, metrics and payloads
	v    note.Verifier
}

// Config configures an Auditor. Logs and State are required.
type Config struct {
	Logs []Log
	// State is where the auditor keeps, per log, the last checkpoint it
	// trusted: a file (one for every log) or a directory (one file per
	// log; a path ending in a slash is created as one). It is locked for
	// the auditor's lifetime: each auditor has its own.
	State string
	// Webhook, if set, is told of every failed audit (and of successful
	// ones with Webhook.OnSuccess).
	Webhook *Webhook
	// Registerer receives the auditor's Prometheus metrics; nil means no
	// metrics.
	Registerer prometheus.Registerer
	// Logger receives one line per audit, and webhook failures; nil is
	// silent.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// HTTPClient reads servers; nil means one with Timeout.
	HTTPClient *http.Client
	// Timeout bounds one audit of one log; 0 means 30 minutes.
	Timeout time.Duration
	// Workers is the verifier's parsing and hashing goroutines; 0 means
	// GOMAXPROCS.
	Workers int
	// CheckCheckpoint, if set, is asked before a new checkpoint is
	// trusted (the log's checkpoint, signed by the key of its chain in
	// effect at its size and proven by its entries and consistent with
	// the last one trusted); an error refuses it and fails the audit with
	// VerdictRefused. It is where a witness policy plugs in (require a
	// quorum of cosignatures on the note; 'sealog audit --policy'). nil
	// accepts every such checkpoint.
	CheckCheckpoint func(log string, signed []byte) error
	// Revocations are revocation statements (docs/KEYS.md, 'sealog key
	// revoke'), each honoured for the logs of its origin: a log with
	// entries that only a revoked key vouches for past its point fails
	// with VerdictRevoked, and nothing past the point is trusted. A
	// statement counts if a RevocationKeys key signed it, or the key the
	// revoked one handed over to at or before its point; never the
	// revoked key itself (an audit with a statement signed otherwise is
	// VerdictUnreadable, saying so).
	Revocations [][]byte
	// RevocationKeys are the verifier keys (an offline root key) whose
	// revocation statements count.
	RevocationKeys []string
}

// Auditor audits a set of logs. Its methods are not safe for concurrent
// use; Run and RunOnce audit the logs one after the other.
type Auditor struct {
	cfg   Config
	logs  []*Log
	st    *states
	m     *metrics
	log   *slog.Logger
	now   func() time.Time
	hooks *Webhook
}

// New checks cfg, opens and locks the state and reads it: each log's
// saved checkpoint must verify with the log's key.
func New(cfg Config) (*Auditor, error) {
	if len(cfg.Logs) == 0 {
		return nil, errors.New("auditor: no log to watch")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Minute
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	a := &Auditor{cfg: cfg, log: cfg.Logger, now: cfg.Now}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.now == nil {
		a.now = time.Now
	}
	seen := map[string]bool{}
	for i := range cfg.Logs {
		l := cfg.Logs[i]
		if err := l.prepare(); err != nil {
			return nil, err
		}
		if seen[l.id] {
			return nil, fmt.Errorf("auditor: log %s given twice", l.id)
		}
		seen[l.id] = true
		a.logs = append(a.logs, &l)
	}
	if err := checkRevocations(cfg, a.logs); err != nil {
		return nil, err
	}
	if cfg.Webhook != nil {
		if err := cfg.Webhook.check(); err != nil {
			return nil, err
		}
		a.hooks = cfg.Webhook
	}
	st, err := openStates(cfg.State)
	if err != nil {
		return nil, err
	}
	a.st = st
	for _, l := range a.logs {
		if _, err := a.trusted(l); err != nil {
			st.close()
			return nil, err
		}
	}
	if cfg.Registerer != nil {
		if a.m, err = newMetrics(cfg.Registerer, a.logs); err != nil {
			st.close()
			return nil, err
		}
	}
	return a, nil
}

// checkRevocations checks that each revocation statement parses and is
// for a log the auditor watches, and that each revocation key is a key.
func checkRevocations(cfg Config, logs []*Log) error {
	for i, b := range cfg.Revocations {
		r, err := verify.ParseRevocation(b)
		if err != nil {
			return fmt.Errorf("auditor: revocation statement %d: %v", i+1, err)
		}
		found := false
		for _, l := range logs {
			found = found || l.v.Name() == r.Origin
		}
		if !found {
			return fmt.Errorf("auditor: revocation statement %d revokes a key of %q, and no log watched has that origin", i+1, r.Origin)
		}
	}
	for i, k := range cfg.RevocationKeys {
		if _, err := note.NewVerifier(k); err != nil {
			return fmt.Errorf("auditor: revocation key %d: malformed verifier key: %v", i+1, err)
		}
	}
	return nil
}

// revocationsFor returns the statements of cfg.Revocations for origin.
func revocationsFor(cfg Config, origin string) [][]byte {
	var out [][]byte
	for _, b := range cfg.Revocations {
		if r, err := verify.ParseRevocation(b); err == nil && r.Origin == origin {
			out = append(out, b)
		}
	}
	return out
}

// Close releases the state.
func (a *Auditor) Close() error {
	a.st.close()
	return nil
}

// prepare checks a Log and works out its kind and its name in the state.
func (l *Log) prepare() error {
	if l.Name == "" {
		return errors.New("auditor: a log without a name")
	}
	kind, err := kindOf(l.Name)
	if err != nil {
		return fmt.Errorf("auditor: %w", err)
	}
	if l.Key == "" {
		return fmt.Errorf("auditor: log %s: no verifier key (the auditor must be given the log's key; it trusts nothing the log says)", redactName(l.Name))
	}
	if l.v, err = note.NewVerifier(l.Key); err != nil {
		return fmt.Errorf("auditor: log %s: malformed verifier key: %v", redactName(l.Name), err)
	}
	l.kind = kind
	switch kind {
	case KindServer:
		u, err := url.Parse(l.Name)
		if err != nil || u.Host == "" {
			return fmt.Errorf("auditor: %q is not a server URL", redactName(l.Name))
		}
		u.User = nil
		l.id = strings.TrimRight(u.String(), "/")
	case KindDir:
		abs, err := filepath.Abs(l.Name)
		if err != nil {
			return fmt.Errorf("auditor: %s: %w", l.Name, err)
		}
		l.id = abs
	default:
		loc, _ := storeopen.Parse(l.Name)
		if loc.Kind == storeopen.SQLite {
			if abs, err := filepath.Abs(loc.Path); err == nil {
				loc.Path = abs
			}
		}
		l.id = loc.String()
	}
	return nil
}

// redactName removes a password from a log name, for messages.
func redactName(name string) string {
	if loc, err := storeopen.Parse(name); err == nil && loc.Kind == storeopen.Postgres {
		return loc.String()
	}
	if u, err := url.Parse(name); err == nil && u.User != nil {
		u.User = nil
		return u.String()
	}
	return name
}

// trusted returns the log's saved state (nil before its first audit),
// checked: kept for the same key, its checkpoint signed by it.
func (a *Auditor) trusted(l *Log) (*LogState, error) {
	s, err := a.st.load(l.id)
	if err != nil || s == nil {
		return nil, err
	}
	if s.Key != l.Key {
		return nil, fmt.Errorf("auditor: the state for %s was kept with another verifier key (%s); give this key its own state", l.id, s.Key)
	}
	if s.Checkpoint == "" {
		if s.Size != 0 {
			return nil, fmt.Errorf("auditor: the state for %s says size %d without a checkpoint", l.id, s.Size)
		}
		return s, nil
	}
	if len(s.Keys) > 0 && s.Keys[0].VerifierKey != l.Key {
		return nil, fmt.Errorf("auditor: the state for %s: its chain of keys does not start with the log's key", l.id)
	}
	ck, err := verifyWithChain([]byte(s.Checkpoint), l, s.Keys)
	if err != nil {
		return nil, fmt.Errorf("auditor: the state for %s: its checkpoint: %v", l.id, err)
	}
	if ck.Size != s.Size || ck.Root != s.Root {
		return nil, fmt.Errorf("auditor: the state for %s: its size and root are not its checkpoint's", l.id)
	}
	return s, nil
}

// RunOnce audits every log once, in order, and returns the results. Each
// result also goes to the metrics and the webhook. When ctx ends it stops,
// and the audit it interrupted is neither returned nor reported.
func (a *Auditor) RunOnce(ctx context.Context) []Result {
	out := make([]Result, 0, len(a.logs))
	for _, l := range a.logs {
		if ctx.Err() != nil {
			break
		}
		r := a.audit(ctx, l)
		if ctx.Err() != nil {
			break // stopped, not failed: nothing to report
		}
		a.log.Info("audit", "log", r.Log, "verdict", r.Verdict, "size", r.Size, "entries", r.Entries, "reason", r.Reason)
		if a.m != nil {
			a.m.observe(&r)
		}
		if a.hooks != nil && (!r.Valid || a.hooks.OnSuccess) {
			if err := a.hooks.deliver(ctx, &r, a.log); err != nil {
				a.log.Error("webhook", "log", r.Log, "err", err)
				r.WebhookErr = err
				if a.m != nil {
					a.m.webhook.WithLabelValues("failed").Inc()
				}
			} else if a.m != nil {
				a.m.webhook.WithLabelValues("delivered").Inc()
			}
		}
		out = append(out, r)
	}
	return out
}

// Run audits every log now and then every interval, until ctx is done.
// report, if set, gets each round's results.
func (a *Auditor) Run(ctx context.Context, every time.Duration, report func([]Result)) error {
	if every <= 0 {
		return errors.New("auditor: the interval must be positive")
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		rs := a.RunOnce(ctx)
		if report != nil && ctx.Err() == nil {
			report(rs)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
