package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/auditor"
	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/internal/logfixture"
	"github.com/sealog/sealog/internal/testkit"
)

// The logs of the audit tests (see internal/logfixture): phase one has 10
// entries, phase two 15 more; forked rewrites the log from entry 10 with
// 20 other entries, signed by the same key.
var (
	auditOne    = logfixture.Phase{Seed: "one", Batches: [][]sealog.Event{logfixture.Events(0, 4, "a"), logfixture.Events(4, 6, "a")}}
	auditTwo    = logfixture.Phase{Seed: "two", Batches: [][]sealog.Event{logfixture.Events(10, 15, "a")}}
	auditForked = logfixture.Phase{Seed: "fork", Batches: [][]sealog.Event{logfixture.Events(10, 20, "b")}}
)

// hookReceiver is a local webhook receiver that checks each payload's
// HMAC signature with the shared secret, as docs/AUDIT.md tells a
// receiver to.
type hookReceiver struct {
	*httptest.Server
	secret []byte
	mu     sync.Mutex
	got    []auditor.Payload
	bad    int
}

func newHookReceiver(t *testing.T, secret []byte) *hookReceiver {
	r := &hookReceiver{secret: secret}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if !auditor.CheckSignature(r.secret, body, req.Header.Get("Sealog-Signature")) {
			r.bad++
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var p auditor.Payload
		if err := json.Unmarshal(body, &p); err != nil {
			r.bad++
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.got = append(r.got, p)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *hookReceiver) payloads() ([]auditor.Payload, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]auditor.Payload(nil), r.got...), r.bad
}

// auditFiles writes the verifier key and a webhook secret (mode 0600).
func auditFiles(t *testing.T) (pub, secretFile string, secret []byte) {
	dir := t.TempDir()
	_, vkey := logfixture.Keys()
	pub = filepath.Join(dir, "log.pub")
	secretFile = filepath.Join(dir, "hook.secret")
	secret = []byte("a webhook secret shared with the receiver")
	if err := os.WriteFile(pub, []byte(vkey+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(secretFile, append(secret, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	return pub, secretFile, secret
}

// auditOnce runs 'sealog audit --once --json args...' and returns its
// exit code and results.
func auditOnce(t *testing.T, ctx context.Context, args ...string) (int, []auditResultJSON, string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, sealogBinary(t), append([]string{"audit", "--once", "--json"}, args...)...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	var rs []auditResultJSON
	for _, l := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		if l == "" {
			continue
		}
		var r auditResultJSON
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("audit printed %q: %v\nstderr: %s", l, err, stderr.String())
		}
		rs = append(rs, r)
	}
	return code, rs, stderr.String()
}

// watcher is a running 'sealog audit --every ... --listen ... --json'.
type watcher struct {
	cmd     *exec.Cmd
	metrics string
	results chan auditResultJSON
	done    chan error
}

func startWatcher(t *testing.T, ctx context.Context, args ...string) *watcher {
	t.Helper()
	cmd := exec.CommandContext(ctx, sealogBinary(t), append([]string{"audit", "--every", "1s", "--listen", "127.0.0.1:0", "--json"}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	errs, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	w := &watcher{cmd: cmd, results: make(chan auditResultJSON, 1000), done: make(chan error, 1)}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(errs)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "sealog: audit: metrics on "); ok {
				addr <- a
			}
		}
	}()
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var r auditResultJSON
			if err := json.Unmarshal(sc.Bytes(), &r); err == nil {
				w.results <- r
			}
		}
		w.done <- cmd.Wait()
	}()
	select {
	case w.metrics = <-addr:
	case err := <-w.done:
		t.Fatalf("sealog audit ended before listening: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("sealog audit did not listen within a minute")
	}
	return w
}

// drain drops the results printed so far.
func (w *watcher) drain() {
	for {
		select {
		case <-w.results:
		default:
			return
		}
	}
}

// await waits for a result that satisfies ok.
func (w *watcher) await(t *testing.T, what string, ok func(auditResultJSON) bool) auditResultJSON {
	t.Helper()
	deadline := time.After(time.Minute)
	for {
		select {
		case r := <-w.results:
			if ok(r) {
				return r
			}
		case err := <-w.done:
			t.Fatalf("sealog audit ended (%v) before %s", err, what)
		case <-deadline:
			t.Fatalf("no audit result within a minute: %s", what)
		}
	}
}

// metric scrapes the watcher's /metrics for the sample whose name and
// labels start with series (e.g. `sealog_audit_last_result{log="/x"}`).
func (w *watcher) metric(t *testing.T, series string) string {
	t.Helper()
	resp, err := http.Get(w.metrics)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, series+" "); ok {
			return v
		}
	}
	t.Fatalf("/metrics has no %s:\n%s", series, b)
	return ""
}

// TestAuditWatchDirectory runs a long-lived auditor over a log directory
// while the log grows and then is tampered with in three ways: an entry
// edited, the tail cut and re-signed, the log forked (rewritten from
// entry 10 and re-signed). Each time the next audit fails with the right
// verdict, the metric flips to 0 and the webhook receiver gets a payload
// whose HMAC verifies.
func TestAuditWatchDirectory(t *testing.T) {
	// prepare readies a tampering and returns what carries it out, at
	// once: the test does it just after an audit, a second before the
	// next, so that no audit reads the log half changed.
	for _, c := range []struct {
		name    string
		prepare func(t *testing.T, dir string) (tamper func())
		verdict string
		first   string
	}{
		{"edit", func(t *testing.T, dir string) func() {
			return func() { logfixture.EditDirLine(t, dir, 7, `"user-7"`, `"user-9"`) }
		}, "tampered", "7"},
		{"cut-and-resign", func(t *testing.T, dir string) func() {
			other := filepath.Join(t.TempDir(), "cut")
			logfixture.Build(t, other, auditOne)
			return func() { logfixture.ReplaceDir(t, dir, other) }
		}, "truncated", "10"},
		{"fork", func(t *testing.T, dir string) func() {
			other := filepath.Join(t.TempDir(), "fork")
			logfixture.Build(t, other, auditOne, auditForked)
			return func() { logfixture.ReplaceDir(t, dir, other) }
		}, "forked", "null"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
			defer cancel()
			dir := filepath.Join(t.TempDir(), "log")
			logfixture.Build(t, dir, auditOne)
			pub, secretFile, secret := auditFiles(t)
			rcv := newHookReceiver(t, secret)
			w := startWatcher(t, ctx, dir, "--key", pub, "--state", filepath.Join(t.TempDir(), "state")+"/",
				"--webhook", rcv.URL, "--webhook-secret", secretFile)
			w.await(t, "the first audit", func(r auditResultJSON) bool { return r.Valid && r.VerifiedSize == 10 })
			logfixture.Build(t, dir, auditTwo)
			r := w.await(t, "an audit of the grown log", func(r auditResultJSON) bool { return r.VerifiedSize == 25 })
			if !r.Valid {
				t.Fatalf("the grown log: %+v", r)
			}
			series := fmt.Sprintf("sealog_audit_last_result{log=%q}", r.Log)
			if v := w.metric(t, series); v != "1" {
				t.Fatalf("%s = %s after valid audits", series, v)
			}
			if v := w.metric(t, fmt.Sprintf("sealog_audit_verified_tree_size{log=%q}", r.Log)); v != "25" {
				t.Fatalf("verified tree size %s, want 25", v)
			}
			tamper := c.prepare(t, dir)
			w.drain()
			w.await(t, "another audit", func(r auditResultJSON) bool { return true })
			tamper()
			r = w.await(t, "an audit of the tampered log", func(r auditResultJSON) bool { return !r.Valid })
			first := "null"
			if r.FirstInvalid != nil {
				first = fmt.Sprint(*r.FirstInvalid)
			}
			if r.Verdict != c.verdict || first != c.first || r.VerifiedSize != 25 {
				t.Fatalf("after tampering: %+v, want verdict %s, first invalid %s", r, c.verdict, c.first)
			}
			if v := w.metric(t, series); v != "0" {
				t.Fatalf("%s = %s after a failed audit", series, v)
			}
			if v := w.metric(t, fmt.Sprintf("sealog_audit_errors_total{kind=%q,log=%q}", c.verdict, r.Log)); v == "0" {
				t.Fatalf("sealog_audit_errors_total{kind=%q} is 0", c.verdict)
			}
			var ps []auditor.Payload
			testkit.Eventually(t, time.Minute, "the webhook payload", func() bool { ps, _ = rcv.payloads(); return len(ps) > 0 })
			if _, bad := rcv.payloads(); bad != 0 {
				t.Fatalf("%d webhook requests without a valid signature", bad)
			}
			p := ps[0]
			if p.Verdict != c.verdict || p.Log != r.Log || p.Valid || p.TrustedCheckpoint == nil || p.VerifiedSize != 25 {
				t.Fatalf("payload: %+v", p)
			}
			if c.verdict == "forked" {
				checkForkPayload(t, p)
			}
			if code := stopWatcher(t, w); code != 0 {
				t.Fatalf("SIGTERM: exit %d, want 0", code)
			}
		})
	}
}

// checkForkPayload checks a fork's evidence: both checkpoints signed by
// the key, and the log's consistency proof between them, which fails.
func checkForkPayload(t *testing.T, p auditor.Payload) {
	t.Helper()
	_, vkey := logfixture.Keys()
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	if p.Checkpoint == nil || p.TrustedCheckpoint == nil {
		t.Fatalf("fork payload without both checkpoints: %+v", p)
	}
	old, _, err1 := checkpoint.Verify([]byte(*p.TrustedCheckpoint), v, v.Name())
	nw, _, err2 := checkpoint.Verify([]byte(*p.Checkpoint), v, v.Name())
	if err1 != nil || err2 != nil || nw.Size < old.Size {
		t.Fatalf("fork checkpoints: %v, %v (sizes %d, %d)", err1, err2, old.Size, nw.Size)
	}
	if len(p.ConsistencyProof) == 0 || p.ConsistencyProofError == "" {
		t.Fatalf("fork payload without the log's consistency proof: %+v", p)
	}
	if tlog.CheckTree(p.ConsistencyProof, int64(nw.Size), nw.Root, int64(old.Size), old.Root) == nil {
		t.Fatal("the fork's consistency proof verifies")
	}
}

func stopWatcher(t *testing.T, w *watcher) int {
	t.Helper()
	if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-w.done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(time.Minute):
		t.Fatal("sealog audit did not stop within a minute")
		return -1
	}
}
