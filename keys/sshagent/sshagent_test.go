package sshagent_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/keys/sshagent"
	"github.com/sealog/sealog/verify"
)

// startAgent runs a real ssh-agent on a socket in a temporary directory
// and adds a deterministic Ed25519 key to it with ssh-add. It returns the
// socket and the key's fingerprint.
func startAgent(t *testing.T, seed string) (socket, fingerprint string) {
	t.Helper()
	for _, cmd := range []string{"ssh-agent", "ssh-add"} {
		if _, err := exec.LookPath(cmd); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not installed (apt-get install openssh-client)", cmd)
			}
			t.Skipf("%s is not installed", cmd)
		}
	}
	dir, err := os.MkdirTemp("", "agent") // short: a socket path is at most 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	socket = filepath.Join(dir, "sock")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	agent := exec.CommandContext(ctx, "ssh-agent", "-D", "-a", socket)
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); agent.Wait() })
	testkit.Eventually(t, 10*time.Second, "ssh-agent listening", func() bool { _, err := os.Stat(socket); return err == nil })
	h := sha256.Sum256([]byte("sshagent test " + seed))
	priv := ed25519.NewKeyFromSeed(h[:])
	block, err := ssh.MarshalPrivateKey(priv, "sealog test")
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "id_ed25519")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	add := exec.CommandContext(ctx, "ssh-add", keyFile)
	add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+socket)
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v\n%s", err, out)
	}
	pub, err := ssh.NewPublicKey(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return socket, ssh.FingerprintSHA256(pub)
}

func TestAgentSignsLog(t *testing.T) {
	socket, fp := startAgent(t, "one")
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
