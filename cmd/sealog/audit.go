package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/mod/sumdb/note"

	"github.com/sealog/sealog/auditor"
	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/policy"
	"github.com/sealog/sealog/verify"
)

var auditCmd = &command{
	name:    "audit",
	summary: "watch logs: verify new entries and consistency on a schedule, metrics, webhook",
	usage: `Usage: sealog audit LOG... --key FILE.pub [--key FILE.pub]... --state FILE|DIR
                    [--once | --every DURATION] [--listen ADDR] [--token-file FILE]
                    [--policy FILE] [--revocations FILE]... [--revocation-key K]...
                    [--webhook URL --webhook-secret FILE [--webhook-on-success]
                     [--webhook-attempts N]] [--json] [-v]

Watches one or more logs for someone who does not trust their operator
(docs/AUDIT.md). LOG is a log directory, a database (postgres://...,
sqlite:...) or a server (http://..., https://...). Each audit checks every
line of the log with the log's verifier key, and checks that the log
still holds, unchanged, everything the checkpoint trusted at the last
audit covers: a log edited, cut back and re-signed, or rewritten from
some entry and re-signed, fails. Only then is the log's new checkpoint
trusted and saved in the state. The first audit of a log trusts its key
alone. A log rotated to a new key (sealog key rotate) is followed: each
rotation record is checked, and the chain of keys is kept in the state.
The auditor only reads: it never writes to a log.

--key is required: the auditor trusts nothing a log says, its key
included. Give one --key for all the logs, or one per log, in order.

Flags:
    --key K             a verifier key file (.pub) or the key text (repeatable)
    --state PATH        where the trusted checkpoints are kept: a file, or a
                        directory (one file per log; a path ending in / is
                        made one). Each auditor needs its own.
    --once              audit each log once and exit (for cron)
    --every D           audit every D (default 1m), until SIGINT or SIGTERM
    --listen ADDR       serve Prometheus metrics at http://ADDR/metrics
                        (port 0 picks a free one; the address is printed on stderr)
    --token-file FILE   a read token for the servers (default $SEALOG_TOKEN)
    --policy FILE       a witness policy (c2sp.org/tlog-policy): a checkpoint is
                        trusted only with its quorum of cosignatures (a server's
                        /checkpoint, a directory's witnessed file), else the
                        audit fails as refused. List each key of a rotated log.
    --revocations FILE  a revocation statement ('sealog key revoke') for the logs of
                        its origin: a log with entries only the revoked key vouches
                        for past its point fails as revoked (repeatable)
    --revocation-key K  a key (an offline root key, .pub or text) whose revocation
                        statements count, besides the key the revoked one handed
                        over to (repeatable)
    --webhook URL       POST a JSON payload to URL when an audit fails
    --webhook-secret F  the HMAC-SHA256 key of the Sealog-Signature header,
                        from a file readable by its owner only (mode 0600)
    --webhook-on-success  post valid audits too
    --webhook-attempts N  tries of one delivery (default 6), 1 s apart, then
                        2 s, 4 s... (up to 1 min): network errors, 408, 429, 5xx
    --json              print each result as a JSON line
    -v                  log each audit and each webhook retry on stderr

Exit status with --once: 0 every log valid, 1 a log failed (tampered,
truncated, forked, wrong key, unsigned, revoked, refused), 3 a log could not be
read (and none failed), 2 usage error. Without --once: 0 after SIGINT or
SIGTERM.
`,
}

func init() { auditCmd.run = runAudit }

// auditFlags are the parsed flags of sealog audit.
type auditFlags struct {
	keys, revocations, revocationKeys       stringsFlag
	state, listen, tokenFile, hook, hookKey string
	policy                                  string
	once, hookOK, asJSON, verbose           bool
	every                                   time.Duration
	attempts                                int
}

func runAudit(e *env, args []string) error {
	c := auditCmd
	fl := newFlags(c)
	var f auditFlags
	fl.Var(&f.keys, "key", "")
	fl.StringVar(&f.state, "state", "", "")
	fl.StringVar(&f.listen, "listen", "", "")
	fl.StringVar(&f.tokenFile, "token-file", "", "")
	fl.StringVar(&f.policy, "policy", "", "")
	fl.Var(&f.revocations, "revocations", "")
	fl.Var(&f.revocationKeys, "revocation-key", "")
	fl.StringVar(&f.hook, "webhook", "", "")
	fl.StringVar(&f.hookKey, "webhook-secret", "", "")
	fl.BoolVar(&f.once, "once", false, "")
	fl.BoolVar(&f.hookOK, "webhook-on-success", false, "")
	fl.BoolVar(&f.asJSON, "json", false, "")
	fl.BoolVar(&f.verbose, "v", false, "")
	fl.DurationVar(&f.every, "every", 0, "")
	fl.IntVar(&f.attempts, "webhook-attempts", 6, "")
	pos, err := parseArgs(e, c, fl, args)
	if err != nil {
		return err
	}
	cfg, err := auditConfig(e, c, &f, pos)
	if err != nil {
		return err
	}
	var reg *prometheus.Registry
	if f.listen != "" {
		reg = prometheus.NewRegistry()
		cfg.Registerer = reg
	}
	a, err := auditor.New(cfg)
	if err != nil {
		return ioError("%v", strings.TrimPrefix(err.Error(), "auditor: "))
	}
	defer a.Close()
	if reg != nil {
		stop, err := serveMetrics(e, f.listen, reg)
		if err != nil {
			return err
		}
		defer stop()
	}
	if f.once {
		return auditExit(e.ctx, printResults(e, &f, a.RunOnce(e.ctx)))
	}
	every := f.every
	if every == 0 {
		every = time.Minute
	}
	err = a.Run(e.ctx, every, func(rs []auditor.Result) { printResults(e, &f, rs) })
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// auditConfig checks the flags and builds the auditor's configuration.
func auditConfig(e *env, c *command, f *auditFlags, pos []string) (auditor.Config, error) {
	var cfg auditor.Config
	switch {
	case len(pos) == 0:
		return cfg, wantArgs(c, pos, 1, -1, "the logs to audit (a directory, a database URL or a server URL)")
	case len(f.keys) == 0:
		return cfg, usageError("audit: missing --key FILE.pub: the auditor trusts nothing a log says, its key included").
			withHint("give the log's verifier key from your own records (made by 'sealog keygen', FILE.pub)")
	case len(f.keys) != 1 && len(f.keys) != len(pos):
		return cfg, usageError("audit: %d logs and %d --key: give one key for all, or one per log in order", len(pos), len(f.keys))
	case f.state == "":
		return cfg, usageError("audit: missing --state FILE|DIR, where the auditor keeps the checkpoints it trusts")
	case f.once && f.every != 0:
		return cfg, usageError("audit: --once and --every exclude each other")
	case f.every < 0:
		return cfg, usageError("audit: --every %s: want a positive duration", f.every)
	case (f.hook == "") != (f.hookKey == ""):
		return cfg, usageError("audit: --webhook and --webhook-secret go together").
			withHint("the receiver checks the payload's HMAC signature with the shared secret")
	case f.hookOK && f.hook == "":
		return cfg, usageError("audit: --webhook-on-success needs --webhook")
	case f.attempts < 1:
		return cfg, usageError("audit: --webhook-attempts %d: want at least 1", f.attempts)
	}
	token := e.getenv("SEALOG_TOKEN")
	if f.tokenFile != "" {
		b, err := readSecretFile(f.tokenFile, "--token-file")
		if err != nil {
			return cfg, err
		}
		token = string(b)
	}
	for i, name := range pos {
		k, err := loadVerifierKey(f.keys[min(i, len(f.keys)-1)])
		if err != nil {
			return cfg, err
		}
		cfg.Logs = append(cfg.Logs, auditor.Log{Name: name, Key: k, Token: token})
	}
	cfg.State = f.state
	for _, p := range f.revocations {
		b, err := os.ReadFile(p)
		if err != nil {
			return cfg, ioError("--revocations %s: %v", p, pathErr(err))
		}
		if _, err := verify.ParseRevocation(b); err != nil {
			return cfg, ioError("--revocations %s: %v", p, err)
		}
		cfg.Revocations = append(cfg.Revocations, b)
	}
	for _, k := range f.revocationKeys {
		v, err := loadVerifierKey(k)
		if err != nil {
			return cfg, err
		}
		cfg.RevocationKeys = append(cfg.RevocationKeys, v)
	}
	if len(f.revocationKeys) > 0 && len(f.revocations) == 0 {
		return cfg, usageError("audit: --revocation-key without --revocations: give the statements it signs")
	}
	if f.policy != "" {
		p, err := readPolicy("--policy", f.policy)
		if err != nil {
			return cfg, err
		}
		var keys []string
		for _, l := range cfg.Logs {
			keys = append(keys, l.Key)
		}
		cfg.CheckCheckpoint = policyCheck(p, keys)
	}
	if f.hook != "" {
		secret, err := readSecretFile(f.hookKey, "--webhook-secret")
		if err != nil {
			return cfg, err
		}
		cfg.Webhook = &auditor.Webhook{URL: f.hook, Secret: secret, OnSuccess: f.hookOK, MaxAttempts: f.attempts}
	}
	cfg.Logger = newLogger(e, f.verbose)
	return cfg, nil
}

// policyCheck is the auditor's CheckCheckpoint of 'audit --policy': the
// checkpoint (already verified by the auditor with the log's chain of
// keys) must carry the policy's quorum of cosignatures. The log's
// signature is checked again with one of the policy's log keys or of the
// keys given (--key), so a rotated log's later keys must be in the policy,
// as its witnesses must know them. For a log directory whose checkpoint
// file has no cosignatures, the directory's witnessed file (kept by
// 'sealog serve --policy') counts when it is the same checkpoint.
func policyCheck(p *policy.Policy, keys []string) func(log string, signed []byte) error {
	var vs []note.Verifier
	for _, l := range p.Logs {
		vs = append(vs, l.Verifier)
	}
	for _, k := range keys {
		if v, err := note.NewVerifier(k); err == nil {
			vs = append(vs, v)
		}
	}
	return func(log string, signed []byte) error {
		notes := [][]byte{signed}
		// A log directory (its name is absolute; a server's or a
		// database's is a URL) may keep the cosigned checkpoint apart.
		if filepath.IsAbs(log) {
			if b, err := os.ReadFile(filepath.Join(log, layout.WitnessedFile)); err == nil && len(b) <= checkpoint.MaxSize && sameCheckpoint(b, signed) {
				notes = append(notes, b)
			}
		}
		var last error
		for _, msg := range notes {
			ck, err := checkpoint.ParseUnverified(checkpoint.Normalize(msg))
			if err != nil {
				return fmt.Errorf("the checkpoint: %v", err)
			}
			for _, v := range vs {
				if v.Name() != ck.Origin {
					continue
				}
				_, err := p.Check(msg, v)
				if err == nil {
					return nil
				}
				if last == nil || errors.Is(err, policy.ErrNoQuorum) {
					last = err
				}
			}
		}
		if last == nil {
			return errors.New("the checkpoint is signed by a key the witness policy does not list (after a rotation, add the log's new key to the policy)")
		}
		return errors.New(strings.TrimPrefix(last.Error(), "policy: "))
	}
}

// sameCheckpoint reports whether two signed notes have the same text.
func sameCheckpoint(a, b []byte) bool {
	na, err1 := checkpoint.ParseNote(checkpoint.Normalize(a))
	nb, err2 := checkpoint.ParseNote(checkpoint.Normalize(b))
	return err1 == nil && err2 == nil && string(na.Text) == string(nb.Text)
}

// readSecretFile reads a secret (a token, an HMAC key) from a file that
// only its owner may read; it never prints the contents.
func readSecretFile(path, flag string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, ioError("%s %s: %v", flag, path, pathErr(err))
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, ioError("%s %s is readable by others (mode %04o); a secret must be readable by its owner only", flag, path, fi.Mode().Perm()).
			withHint("chmod 600 %s", path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, ioError("%s %s: %v", flag, path, pathErr(err))
	}
	b = []byte(strings.TrimRight(string(b), "\r\n"))
	if len(b) == 0 {
		return nil, ioError("%s %s is empty", flag, path)
	}
	return b, nil
}

// serveMetrics serves /metrics on addr and prints where.
func serveMetrics(e *env, addr string, reg *prometheus.Registry) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, ioError("--listen %s: %v", addr, err).withHint("choose another address (port 0 picks a free one)")
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	fmt.Fprintf(e.stderr, "sealog: audit: metrics on http://%s/metrics\n", ln.Addr())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}, nil
}

// auditResultJSON is one line of 'sealog audit --json'.
type auditResultJSON struct {
	Log          string    `json:"log"`
	Verdict      string    `json:"verdict"`
	Valid        bool      `json:"valid"`
	Reason       string    `json:"reason"`
	FirstInvalid *uint64   `json:"first_invalid"`
	VerifiedSize uint64    `json:"verified_size"`
	Entries      uint64    `json:"entries_checked"`
	Webhook      string    `json:"webhook_error,omitempty"`
	Finished     time.Time `json:"finished"`
}

// printResults prints a round of results and returns them.
func printResults(e *env, f *auditFlags, rs []auditor.Result) []auditor.Result {
	for _, r := range rs {
		if f.asJSON {
			j := auditResultJSON{Log: r.Log, Verdict: r.Verdict, Valid: r.Valid, Reason: r.Reason, FirstInvalid: r.FirstInvalid,
				VerifiedSize: r.Size, Entries: r.Entries, Finished: r.Finished.UTC()}
			if r.WebhookErr != nil {
				j.Webhook = r.WebhookErr.Error()
			}
			b, _ := json.Marshal(j)
			fmt.Fprintf(e.stdout, "%s\n", b)
			continue
		}
		fmt.Fprintf(e.stdout, "%s: %s: %s\n", r.Log, strings.ToUpper(r.Verdict), r.Reason)
		if r.WebhookErr != nil {
			fmt.Fprintf(e.stderr, "sealog: error: %s: %v\n", r.Log, r.WebhookErr)
		}
	}
	return rs
}

// auditExit is the exit of 'sealog audit --once': a failed log outweighs
// an unreadable one.
func auditExit(ctx context.Context, rs []auditor.Result) error {
	if ctx.Err() != nil {
		return ioError("interrupted")
	}
	failed, unreadable := 0, 0
	for _, r := range rs {
		switch {
		case r.Valid:
		case r.Verdict == auditor.VerdictUnreadable:
			unreadable++
		default:
			failed++
		}
	}
	switch {
	case failed > 0:
		return errFailedQuiet
	case unreadable > 0:
		return &cliError{code: exitIO}
	}
	return nil
}
