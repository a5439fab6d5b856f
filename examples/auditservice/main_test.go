package main_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/sealog/sealog"
)

// build builds the example service and the sealog command.
func build(t *testing.T, ctx context.Context) (service, sealogBin string) {
	t.Helper()
	bin := t.TempDir()
	service, sealogBin = filepath.Join(bin, "auditservice"), filepath.Join(bin, "sealog")
	for _, b := range [][2]string{{service, "."}, {sealogBin, "github.com/sealog/sealog/cmd/sealog"}} {
		if out, err := exec.CommandContext(ctx, "go", "build", "-o", b[0], b[1]).CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", b[1], err, out)
		}
	}
	return service, sealogBin
}

// proc is a running process whose stdout lines are watched.
type proc struct {
	cmd   *exec.Cmd
	lines chan string
	done  chan error
	seen  []string
}

func start(t *testing.T, ctx context.Context, env []string, name string, args ...string) *proc {
	t.Helper()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, lines: make(chan string, 100), done: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		if t.Failed() {
			t.Logf("%s stderr:\n%s", filepath.Base(name), stderr.String())
		}
	})
	return p
}

// await returns the rest of the first line with prefix.
func (p *proc) await(t *testing.T, prefix string) string {
	t.Helper()
	timeout := time.After(time.Minute)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				t.Fatalf("the process ended before printing %q; printed %q", prefix, p.seen)
			}
			p.seen = append(p.seen, l)
			if strings.HasPrefix(l, prefix) {
				return strings.TrimPrefix(l, prefix)
			}
		case <-timeout:
			t.Fatalf("no %q within a minute", prefix)
		}
	}
}

// stop sends SIGTERM and wants exit status 0.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	go func() {
		for l := range p.lines {
			p.seen = append(p.seen, l)
		}
	}()
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(p.cmd.Path), err)
		}
	case <-time.After(time.Minute):
		t.Fatalf("%s did not stop within a minute", filepath.Base(p.cmd.Path))
	}
}

// traffic sends the service its requests and one gRPC call, checking
// the answers; it returns the number of entries they make.
func traffic(t *testing.T, ctx context.Context, httpAddr, grpcAddr, id string) int {
	t.Helper()
	for _, rq := range []struct {
		method, path, user string
		want               int
	}{
		{"POST", "/invoices/" + id + "/approve", "alice@example.com", 200},
		{"GET", "/invoices/" + id, "bob@example.com", 200},
		{"GET", "/invoices/nope", "", 404},
		{"POST", "/invoices/" + id + "/approve", "", 401},
		{"GET", "/healthz", "", 200}, // skipped
	} {
		req, _ := http.NewRequestWithContext(ctx, rq.method, "http://"+httpAddr+rq.path, nil)
		if rq.user != "" {
			req.Header.Set("X-User", rq.user)
		}
		req.Header.Set("Authorization", "Bearer do-not-record-me")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != rq.want {
			t.Fatalf("%s %s: %s, want %d", rq.method, rq.path, resp.Status, rq.want)
		}
	}
	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}
	return 4 + 1 + 1 // four requests, one slog record, one call
}

// verifyLog runs 'sealog verify --json' and wants the log valid with n
// entries.
func verifyLog(t *testing.T, ctx context.Context, sealogBin, dir string, n int, args ...string) {
	t.Helper()
	out, err := exec.CommandContext(ctx, sealogBin, append([]string{"verify", dir, "--json"}, args...)...).Output()
	if err != nil {
		t.Fatalf("sealog verify: %v\n%s", err, out)
	}
	var rep struct {
		Valid             bool   `json:"valid"`
		Verdict           string `json:"verdict"`
		Entries           int    `json:"entries"`
		TruncationChecked bool   `json:"truncation_checked"`
		KeyFromLog        bool   `json:"key_from_log"`
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("sealog verify --json: %v\n%s", err, out)
	}
	if !rep.Valid || rep.Entries != n || rep.KeyFromLog {
		t.Fatalf("sealog verify: %s, want valid with %d entries", out, n)
	}
}

// kinds reads the log (read-only, checked) and returns each entry's
// kind, checking that no token was recorded.
func kinds(t *testing.T, ctx context.Context, dir string) []string {
	t.Helper()
	l, err := sealog.Open(dir, sealog.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var ks []string
	for e, err := range l.Entries(ctx, 0, ^uint64(0)) {
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(e.Payload), "do-not-record-me") {
			t.Errorf("entry %d recorded the token: %s", e.Seq, e.Payload)
		}
		ks = append(ks, e.Kind)
	}
	slices.Sort(ks)
	return ks
}

var wantKinds = []string{"grpc.call", "http.request", "http.request", "http.request", "http.request", "invoice.approve"}

func TestLocal(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	service, sealogBin := build(t, ctx)
	dir := t.TempDir()
	key, logDir := filepath.Join(dir, "audit.key"), filepath.Join(dir, "audit-log")
	if out, err := exec.CommandContext(ctx, sealogBin, "keygen", "-o", key, "--name", "example.com/invoices").CombinedOutput(); err != nil {
		t.Fatalf("sealog keygen: %v\n%s", err, out)
	}
	n := 0
	// Two runs: the second start checks the first run's entries.
	for run := range 2 {
		p := start(t, ctx, nil, service, "-log", logDir, "-key", key, "-http", "127.0.0.1:0", "-grpc", "127.0.0.1:0")
		h, g := p.await(t, "http on "), p.await(t, "grpc on ")
		n += traffic(t, ctx, h, g, fmt.Sprint(run))
		p.stop(t)
		if run == 0 {
			if err := os.CopyFS(filepath.Join(dir, "after-run-0"), os.DirFS(logDir)); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The state file holds the checkpoint the second start verified: a
	// trusted checkpoint for the verifier.
	verifyLog(t, ctx, sealogBin, logDir, n, "--key", key+".pub", "--checkpoint", logDir+".state")
	want := slices.Concat(wantKinds, wantKinds)
	slices.Sort(want)
	if got := kinds(t, ctx, logDir); !slices.Equal(got, want) {
		t.Errorf("kinds %q", got)
	}

	// Someone changes who approved an invoice, in a copy: the verifier
	// says TAMPERED (exit 1), and the service refuses to start on it.
	bad := filepath.Join(dir, "tampered")
	if err := os.CopyFS(bad, os.DirFS(logDir)); err != nil {
		t.Fatal(err)
	}
	segs, _ := filepath.Glob(filepath.Join(bad, "segments", "*.jsonl"))
	b, err := os.ReadFile(segs[0])
	if err != nil || !strings.Contains(string(b), "alice@example.com") {
		t.Fatalf("segment %v: %v", segs, err)
	}
	os.WriteFile(segs[0], []byte(strings.Replace(string(b), "alice@example.com", "evil0@example.com", 1)), 0o644)
	os.WriteFile(bad+".state", mustRead(t, logDir+".state"), 0o644)
	out, err := exec.CommandContext(ctx, sealogBin, "verify", bad, "--key", key+".pub", "-q").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Errorf("sealog verify on the tampered copy: %v\n%s", err, out)
	}
	out, err = exec.CommandContext(ctx, service, "-log", bad, "-key", key, "-http", "127.0.0.1:0", "-grpc", "127.0.0.1:0").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "damaged") {
		t.Errorf("the service started on a tampered log: %v\n%s", err, out)
	}
	rolledBack(t, ctx, service, key, dir, logDir)
}

// TestLocal's log, rolled back: the service's start-up check refuses it.
func rolledBack(t *testing.T, ctx context.Context, service, key, dir, logDir string) {
	t.Helper()
	// One more start verifies all entries and saves the head in the state
	// file; then the log is replaced by the copy taken after the first run.
	p := start(t, ctx, nil, service, "-log", logDir, "-key", key, "-http", "127.0.0.1:0", "-grpc", "127.0.0.1:0")
	p.await(t, "grpc on ")
	p.stop(t)
	old := filepath.Join(dir, "after-run-0")
	os.WriteFile(old+".state", mustRead(t, logDir+".state"), 0o644)
	out, err := exec.CommandContext(ctx, service, "-log", old, "-key", key, "-http", "127.0.0.1:0", "-grpc", "127.0.0.1:0").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "integrity check failed") || !strings.Contains(string(out), "entries were removed") {
		t.Errorf("the service started on a rolled-back log: %v\n%s", err, out)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRemote(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	service, sealogBin := build(t, ctx)
	data := filepath.Join(t.TempDir(), "sealog-data")
	srv := start(t, ctx, []string{"SEALOG_KEY="}, sealogBin, "serve", "--data", data, "--listen", "127.0.0.1:0")
	srv.await(t, "created "+filepath.Join(data, "tokens.json"))
	token := strings.TrimSpace(<-srv.lines)
	vkey := srv.await(t, "verifier key: ")
	url := srv.await(t, "listening on ")

	p := start(t, ctx, []string{"SEALOG_TOKEN=" + token}, service, "-server", url, "-verifier-key", vkey, "-http", "127.0.0.1:0", "-grpc", "127.0.0.1:0")
	h, g := p.await(t, "http on "), p.await(t, "grpc on ")
	n := traffic(t, ctx, h, g, "r")
	p.stop(t)
	srv.stop(t)
	if err := os.WriteFile(filepath.Join(data, "vkey.pub"), []byte(vkey+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	verifyLog(t, ctx, sealogBin, filepath.Join(data, "log"), n, "--key", filepath.Join(data, "vkey.pub"))
	if got := kinds(t, ctx, filepath.Join(data, "log")); !slices.Equal(got, wantKinds) {
		t.Errorf("kinds %q", got)
	}
}
