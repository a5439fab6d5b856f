package sshagent_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/internal/testagent"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/keys/sshagent"
	"github.com/sealog/sealog/verify"
)

func TestAgentSignsLog(t *testing.T) {
	socket, fp := testagent.Start(t, "one")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const origin = "test.example/agent"
	for _, name := range []string{fp, ""} {
		if _, err := sshagent.Key(socket, name, origin); err != nil {
			t.Fatalf("Key(%q): %v", name, err)
		}
	}
	if _, err := sshagent.Key(socket, "SHA256:nope", origin); err == nil || !strings.Contains(err.Error(), "no Ed25519 key with fingerprint") {
		t.Fatalf("an unknown fingerprint: %v", err)
	}
	if _, err := sshagent.Key(filepath.Join(t.TempDir(), "none"), fp, origin); err == nil {
		t.Fatal("a missing agent socket was accepted")
	}

	// A log that starts with a key file and rotates to the agent's key.
	skey, _ := testkit.Keys("agent-file", origin)
	fileKey, err := sealog.ParseKey(skey)
	if err != nil {
		t.Fatal(err)
	}
	agentKey, err := sshagent.Key(socket, fp, origin)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "log")
	l, err := sealog.Open(dir, sealog.Options{Key: fileKey})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(ctx, sealog.Event{Kind: "a", Payload: map[string]any{}}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Rotate(ctx, agentKey); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := l.Append(ctx, sealog.Event{Kind: "b", Payload: map[string]any{"i": i}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	rep, err := verify.Verify(ctx, verify.Dir(dir), verify.Options{Key: fileKey.VerifierKey()})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Valid || len(rep.Keys) != 2 || rep.Keys[1].Key != agentKey.VerifierKey() {
		t.Fatalf("verdict %s, keys %+v: %+v", rep.Verdict, rep.Keys, rep.Problems)
	}
}
