// Package testagent runs a real OpenSSH ssh-agent for tests, holding a
// deterministic Ed25519 key added with ssh-add. Under CI=true a missing
// ssh-agent or ssh-add fails the test instead of skipping it.
package testagent

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/sealog/sealog/internal/testkit"
)

// Start runs a real ssh-agent on a socket in a temporary directory
// and adds a deterministic Ed25519 key to it with ssh-add. It returns the
// socket and the key's fingerprint.
func Start(t *testing.T, seed string) (socket, fingerprint string) {
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
