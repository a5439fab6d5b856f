package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/client"
)

// TestServePolicyEndToEnd runs 'sealog serve --policy' with two real
// 'sealog witness' processes: receipts wait for the quorum and carry its
// cosignatures, so do GET /checkpoint, 'sealog checkpoint' and 'sealog
// export --witnessed'; 'sealog verify --policy' then proves the log
// neither cut back nor forked with nothing saved by hand, and catches a
// truncated and a forked copy.
func TestServePolicyEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dir := t.TempDir()
	var ws []*proc
	var lines []string
	for i := 1; i <= 2; i++ {
		wdir := filepath.Join(dir, fmt.Sprintf("w%d", i))
		os.Mkdir(wdir, 0o700)
		conf := filepath.Join(wdir, "witness.conf")
		out, err := runBinary(t, ctx, "witness", "keygen", "--name", fmt.Sprintf("w%d.example", i), "-o", filepath.Join(wdir, "witness.key"), "--config", conf)
		if err != nil {
			t.Fatal(err, out)
		}
		lines = append(lines, fmt.Sprintf("witness W%d %s", i, lastLine(out)))
		ws = append(ws, nil)
	}
	if out, err := runBinary(t, ctx, "keygen", "-o", filepath.Join(dir, "log.key"), "--name", "example.com/served"); err != nil {
		t.Fatal(err, out)
	}
	logVKey, _ := os.ReadFile(filepath.Join(dir, "log.key.pub"))
	for i := range ws {
		wdir := filepath.Join(dir, fmt.Sprintf("w%d", i+1))
		if out, err := runBinary(t, ctx, "witness", "add-log", "--config", filepath.Join(wdir, "witness.conf"), filepath.Join(dir, "log.key.pub")); err != nil {
			t.Fatal(err, out)
		}
		ws[i] = startListening(t, ctx, "witness", "--config", filepath.Join(wdir, "witness.conf"), "--state", filepath.Join(wdir, "state"), "--listen", "127.0.0.1:0")
		lines[i] += " " + ws[i].url
	}
	pol := filepath.Join(dir, "policy")
	writeFile(t, pol, "log "+strings.TrimSpace(string(logVKey))+"\n"+strings.Join(lines, "\n")+"\ngroup both all W1 W2\nquorum both\n")
	// A policy the witnesses cannot satisfy: a third witness that never cosigns.
	_, w3 := generateWitness(t, ctx, dir)
	strict := filepath.Join(dir, "strict-policy")
	writeFile(t, strict, "log "+strings.TrimSpace(string(logVKey))+"\n"+strings.Join(lines, "\n")+"\nwitness W3 "+w3+"\ngroup all3 all W1 W2 W3\nquorum all3\n")

	data := filepath.Join(dir, "data")
	logDir := filepath.Join(data, "log")
	s := startServe(t, ctx, data, "--key", filepath.Join(dir, "log.key"), "--policy", pol, "--witness-wait", "20s")
	token := s.token
	c, err := client.New(client.Config{URL: s.url, Token: token, VerifierKey: s.vkey})
	if err != nil {
		t.Fatal(err)
	}
	var last sealog.Receipt
	for i := range 5 {
		rs, err := c.AppendBatch(ctx, []sealog.Event{{Kind: "policy.e2e", Payload: map[string]int{"i": i}}})
		if err != nil {
			t.Fatal(err)
		}
		last = rs[0]
	}
	if n := strings.Count(last.Checkpoint, "\n— w"); n != 2 {
		t.Fatalf("the receipt's checkpoint carries %d cosignatures, want 2:\n%s", n, last.Checkpoint)
	}
	resp, err := http.Get(s.url + "/checkpoint")
	if err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 200 && strings.Count(string(b), "\n— w") != 2 {
			t.Errorf("GET /checkpoint without cosignatures:\n%s", b)
		}
	}
	// The witnesses' lag is a metric: both have cosigned the head.
	req, _ := http.NewRequestWithContext(ctx, "GET", s.url+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	} else {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range []string{`sealog_witness_lag_entries{witness="W1"} 0`, `sealog_witness_lag_entries{witness="W2"} 0`, "sealog_witness_quorum_tree_size 5"} {
			if !strings.Contains(string(b), want) {
				t.Errorf("/metrics lacks %q", want)
			}
		}
	}
	if code := s.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("SIGTERM: exit %d", code)
	}
	c.Close()
	if out, _ := runBinary(t, ctx, "checkpoint", logDir); strings.Count(out, "\n— w") != 2 {
		t.Fatalf("sealog checkpoint without the cosignatures:\n%s", out)
	}
	out, err := runBinary(t, ctx, "verify", logDir, "--policy", pol)
	if err != nil || !strings.Contains(out, "vouched by W1") || !strings.Contains(out, "vouched by W2") || !strings.Contains(out, "status:         VALID") {
		t.Fatalf("verify --policy: %v\n%s", err, out)
	}
	t.Logf("verify --policy:\n%s", out)
	// The independent verifier takes the cosigned checkpoint as a trusted
	// one: the cosignature lines are signature lines it ignores.
	if py, err := exec.LookPath("python3"); err == nil {
		out, err := exec.CommandContext(ctx, py, "../../tools/verify.py", logDir, "--key", filepath.Join(dir, "log.key.pub"), "--checkpoint", filepath.Join(logDir, "witnessed")).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "VALID") {
			t.Fatalf("tools/verify.py with the witnessed checkpoint: %v\n%s", err, out)
		}
	} else if os.Getenv("CI") == "true" {
		t.Fatal("python3 is not on PATH, and CI=true")
	}
	if out, err := runBinary(t, ctx, "verify", logDir, "--policy", strict); exitCode(err) != 1 || !strings.Contains(out, "NOT WITNESSED") {
		t.Fatalf("verify with an unmet quorum: %v\n%s", err, out)
	}
	bundle := filepath.Join(dir, "evidence.json")
	if out, err := runBinary(t, ctx, "export", logDir, "--seq", "0,4", "--witnessed", "-o", bundle); err != nil {
		t.Fatal(err, out)
	}
	if out, err := runBinary(t, ctx, "verify-bundle", bundle, "--policy", pol); err != nil || !strings.Contains(out, "vouched by W2") {
		t.Fatalf("verify-bundle --policy: %v\n%s", err, out)
	}
	if out, err := runBinary(t, ctx, "verify-bundle", bundle, "--policy", strict); exitCode(err) != 1 {
		t.Fatalf("verify-bundle with an unmet quorum: %v\n%s", err, out)
	}

	// Keep a copy at 5 entries, grow the log to 8 under the witnesses.
	old := filepath.Join(dir, "old")
	if err := copyTree(logDir, old); err != nil {
		t.Fatal(err)
	}
	s = startServe(t, ctx, data, "--key", filepath.Join(dir, "log.key"), "--policy", pol, "--witness-wait", "20s")
	c, err = client.New(client.Config{URL: s.url, Token: token, VerifierKey: s.vkey})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AppendBatch(ctx, []sealog.Event{{Kind: "policy.e2e"}, {Kind: "policy.e2e"}, {Kind: "policy.e2e"}}); err != nil {
		t.Fatal(err)
	}
	c.Close()
	s.stop(t, syscall.SIGTERM)
	witnessed, err := os.ReadFile(filepath.Join(logDir, "witnessed"))
	if err != nil || !strings.Contains(string(witnessed), "\n8\n") {
		t.Fatalf("witnessed file: %v\n%s", err, witnessed)
	}
	// The operator cuts the log back to 5 entries: the witnessed
	// checkpoint of 8 rules that out.
	writeFile(t, filepath.Join(old, "witnessed"), string(witnessed))
	if out, err := runBinary(t, ctx, "verify", old, "--policy", pol); exitCode(err) != 1 || !strings.Contains(out, "TAMPERED") {
		t.Fatalf("verify --policy of a truncated copy: %v\n%s", err, out)
	}
	// ... or forks it: 3 other entries after the first 5, re-signed.
	for i := range 3 {
		if out, err := runBinary(t, ctx, "append", old, "--key", filepath.Join(dir, "log.key"), fmt.Sprintf(`{"kind":"forged","payload":{"i":%d}}`, i)); err != nil {
			t.Fatal(err, out)
		}
	}
	if out, err := runBinary(t, ctx, "verify", old, "--policy", pol); exitCode(err) != 1 || !strings.Contains(out, "TAMPERED") {
		t.Fatalf("verify --policy of a forked copy: %v\n%s", err, out)
	} else {
		t.Logf("verify --policy of a forked copy:\n%s", out)
	}
	for _, w := range ws {
		w.kill(t)
	}
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	return s[strings.LastIndexByte(s, '\n')+1:]
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func exitCode(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func generateWitness(t *testing.T, ctx context.Context, dir string) (string, string) {
	t.Helper()
	p := filepath.Join(dir, "w3.key")
	out, err := runBinary(t, ctx, "witness", "keygen", "--name", "w3.example", "-o", p)
	if err != nil {
		t.Fatal(err, out)
	}
	return p, lastLine(out)
}
