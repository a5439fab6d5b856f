package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/client"
	"github.com/sealog/sealog/internal/testagent"
	"github.com/sealog/sealog/verify"
)

// The real binary signs with a key held in a real ssh-agent: a log is
// rotated from a key file to the agent's key, appended to by `sealog
// append` and by `sealog serve`, and verifies from the first key.
func TestAgentKeyEndToEnd(t *testing.T) {
	socket, fp := testagent.Start(t, "cli")
	t.Setenv("SSH_AUTH_SOCK", socket)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	logDir := filepath.Join(dir, "log")
	k0 := filepath.Join(dir, "k0.key")
	run := func(args ...string) string {
		t.Helper()
		out, err := runBinary(t, ctx, args...)
		if err != nil {
			t.Fatalf("sealog %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	run("keygen", "-o", k0, "--name", "agent.example/audit")
	run("init", logDir, "--key", k0)
	run("append", logDir, "--key", k0, `{"kind":"file.key"}`)
	agentKey := "ssh-agent:" + fp
	out := run("key", "rotate", logDir, "--key", k0, "--new", agentKey, "--json")
	var rot struct {
		Seq uint64 `json:"seq"`
		Key string `json:"key"`
	}
	if err := json.Unmarshal([]byte(out), &rot); err != nil || rot.Seq != 1 {
		t.Fatalf("key rotate --json: %v\n%s", err, out)
	}
	if strings.Contains(out, "PRIVATE") {
		t.Fatal("key rotate printed a private key")
	}
	run("append", logDir, "--key", agentKey, `{"kind":"agent.key"}`)
	if out, err := runBinary(t, ctx, "append", logDir, "--key", "ssh-agent:SHA256:unknown", `{"kind":"x"}`); err == nil || !strings.Contains(out, "no Ed25519 key with fingerprint") {
		t.Fatalf("an unknown agent key: %v\n%s", err, out)
	}

	// sealog serve with the agent's key; a client pinned to it.
	s := startServe(t, ctx, dir, "--store", logDir, "--key", agentKey)
	c, err := client.New(client.Config{URL: s.url, Token: s.token, VerifierKey: rot.Key, StateFile: filepath.Join(dir, "client.json")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Append(ctx, sealog.Event{Kind: "served", Actor: "alice"}); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if code := s.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("serve exit %d", code)
	}
	pub, err := os.ReadFile(k0 + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := verify.Verify(ctx, verify.Dir(logDir), verify.Options{Key: strings.TrimSpace(string(pub))})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Valid || rep.Entries != 4 || len(rep.Keys) != 2 || rep.Keys[1].Key != rot.Key || *rep.Keys[1].Last != 3 {
		t.Fatalf("verdict %s, %d entries, keys %+v: %+v", rep.Verdict, rep.Entries, rep.Keys, rep.Problems)
	}
}
