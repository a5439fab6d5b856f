package witnessclient_test

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/policy"
	"github.com/sealog/sealog/witnessclient"
)

// needTool finds an OpenSSH tool: skipped without it, failed under CI=true.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not on PATH, and CI=true: refusing to skip (apt-get install openssh-client)", name)
		}
		t.Skipf("%s is not on PATH: skipping", name)
	}
	return p
}

// litewitness is a running litewitness (filippo.io/torchwood) following
// one log, its key in its own ssh-agent.
type litewitness struct {
	url, vkey string
}

func startLitewitness(t *testing.T, ctx context.Context, logVKey string) *litewitness {
	t.Helper()
	bin := testkit.Torchwood(t)
	keygen, agentBin, add := needTool(t, "ssh-keygen"), needTool(t, "ssh-agent"), needTool(t, "ssh-add")
	dir := t.TempDir()
	run := func(env []string, name string, args ...string) string {
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return string(out)
	}
	key := filepath.Join(dir, "witness")
	run(nil, keygen, "-q", "-t", "ed25519", "-N", "", "-C", "litewitness", "-f", key)
	fp := strings.Fields(run(nil, keygen, "-l", "-E", "sha256", "-f", key+".pub"))[1]
	sock := filepath.Join(dir, "agent.sock")
	agent := exec.CommandContext(ctx, agentBin, "-D", "-a", sock)
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { agent.Process.Kill(); agent.Wait() })
	testkit.Eventually(t, 10*time.Second, "the ssh-agent socket", func() bool { _, err := os.Stat(sock); return err == nil })
	run([]string{"SSH_AUTH_SOCK=" + sock}, add, "-q", key)

	db := filepath.Join(dir, "litewitness.db")
	origin := strings.SplitN(logVKey, "+", 2)[0]
	run(nil, filepath.Join(bin, "witnessctl"), "add-log", "-db", db, "-origin", origin)
	run(nil, filepath.Join(bin, "witnessctl"), "add-key", "-db", db, "-origin", origin, "-key", logVKey)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	const name = "litewitness.example/interop"
	lw := exec.CommandContext(ctx, filepath.Join(bin, "litewitness"), "-db", db, "-name", name, "-key", fp, "-ssh-agent", sock, "-listen", addr)
	stderr, _ := lw.StderrPipe()
	if err := lw.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lw.Process.Kill(); lw.Wait() })
	logged := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			t.Log("litewitness: " + sc.Text())
			if _, v, ok := strings.Cut(sc.Text(), "vkey="); ok {
				logged <- strings.Trim(v, `"`)
			}
		}
	}()
	// Our reading of its key (ssh wire format: the key type, then the
	// 32-byte Ed25519 key) must give the vkey it reports itself.
	pubText, _ := os.ReadFile(key + ".pub")
	wire, err := base64.StdEncoding.DecodeString(strings.Fields(string(pubText))[1])
	if err != nil || len(wire) < 32 {
		t.Fatalf("ssh public key: %v", err)
	}
	vkey := checkpoint.CosignatureVerifierKey(name, ed25519.PublicKey(wire[len(wire)-32:]))
	select {
	case got := <-logged:
		if got != vkey {
			t.Fatalf("litewitness reports the vkey %s; from its ssh key we compute %s", got, vkey)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("litewitness printed no verifier key within 30 s")
	}
	testkit.Eventually(t, 30*time.Second, "litewitness listening", func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return &litewitness{url: "http://" + addr, vkey: vkey}
}

// TestLitewitnessCosigns: sealog's log submits its checkpoints to
// litewitness, an independent tlog-witness, and collects cosignatures
// that verify under the policy; a client without state learns the
// witness's size from its 409 and goes on.
func TestLitewitnessCosigns(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	l, v, vkey := testLog(t)
	lw := startLitewitness(t, ctx, vkey)
	own := startWitness(t, 1, v, "")
	p, err := policy.Parse([]byte(fmt.Sprintf("log %s\nwitness LW %s %s\nwitness OWN %s %s\ngroup both all LW OWN\nquorum both\n",
		vkey, lw.vkey, lw.url, own.cs.VerifierKey(), own.srv.URL)))
	if err != nil {
		t.Fatal(err)
	}
	c, err := witnessclient.New(witnessclient.Config{Policy: p, Source: l, Logger: testkit.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 4, 30} {
		appendN(t, l, n)
		c.Round(ctx)
	}
	msg, vd := c.Latest()
	if vd == nil || vd.Checkpoint.Size != 35 {
		t.Fatalf("no quorum at size 35: %+v", vd)
	}
	vd, err = p.Check(msg, v)
	if err != nil || len(vd.Vouched) != 2 || vd.Vouched[0].Witness.Name != "LW" || vd.Vouched[0].Time.IsZero() {
		t.Fatalf("cosigned checkpoint: %v %+v", err, vd)
	}
	t.Logf("cosigned by litewitness at %s:\n%s", vd.Vouched[0].Time, msg)

	// A restarted log that lost its state: litewitness answers 409 with
	// its size, and the client proves consistency from there.
	appendN(t, l, 2)
	fresh, err := witnessclient.New(witnessclient.Config{Policy: p, Source: l, Logger: testkit.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	fresh.Round(ctx)
	if _, vd := fresh.Latest(); vd == nil || vd.Checkpoint.Size != 37 {
		t.Fatalf("after 409s: %+v", vd)
	}
}
