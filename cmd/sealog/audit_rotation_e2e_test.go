package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/client"
	"github.com/sealog/sealog/internal/logfixture"
)

// 'sealog audit' follows a rotation made with 'sealog key rotate', of a
// directory and of the same log served by 'sealog serve' with its new key
// (the server's checkpoints read through the client's rotation
// following), and a restarted auditor goes on from the chain in its
// state.
func TestAuditFollowsRotationEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	logDir := filepath.Join(dir, "data", "log")
	logfixture.Build(t, logDir, auditOne)
	skey, _ := logfixture.Keys()
	oldKey := filepath.Join(dir, "old.key")
	if err := os.WriteFile(oldKey, []byte(skey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	newKey := filepath.Join(dir, "new.key")
	if out, err := runBinary(t, ctx, "keygen", "-o", newKey, "--name", logfixture.Origin); err != nil {
		t.Fatal(err, out)
	}
	newPub, _ := os.ReadFile(newKey + ".pub")
	pub, _, _ := auditFiles(t)
	state := filepath.Join(dir, "state.json")
	if code, rs, stderr := auditOnce(t, ctx, logDir, "--key", pub, "--state", state); code != 0 || !rs[0].Valid {
		t.Fatalf("before the rotation: exit %d %+v %s", code, rs, stderr)
	}
	if out, err := runBinary(t, ctx, "key", "rotate", logDir, "--key", oldKey, "--new", newKey); err != nil {
		t.Fatal(err, out)
	}
	if out, err := runBinary(t, ctx, "append", logDir, "--key", newKey, `{"kind":"after.rotation"}`); err != nil {
		t.Fatal(err, out)
	}
	code, rs, stderr := auditOnce(t, ctx, logDir, "--key", pub, "--state", state)
	if code != 0 || !rs[0].Valid || rs[0].VerifiedSize != 12 {
		t.Fatalf("after the rotation: exit %d %+v %s", code, rs, stderr)
	}
	if b, _ := os.ReadFile(state); !strings.Contains(string(b), strings.TrimSpace(string(newPub))) {
		t.Fatalf("the state does not keep the new key:\n%s", b)
	}
	// The rotated log served with its new key: an auditor that never
	// saw it follows the rotation through the server.
	s := startServe(t, ctx, filepath.Join(dir, "data"), "--key", newKey, "--public-reads")
	c, err := client.New(client.Config{URL: s.url, Token: s.token, VerifierKey: s.vkey})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Append(ctx, sealog.Event{Kind: "served"}); err != nil {
		t.Fatal(err)
	}
	c.Close()
	for _, round := range []string{"first", "restarted"} {
		code, rs, stderr = auditOnce(t, ctx, s.url, "--key", pub, "--state", state)
		if code != 0 || len(rs) != 1 || !rs[0].Valid || rs[0].VerifiedSize != 13 {
			t.Fatalf("%s audit of the server: exit %d %+v %s", round, code, rs, stderr)
		}
	}
	// An auditor given a key of another log refuses it.
	otherKey := filepath.Join(dir, "other.key")
	if out, err := runBinary(t, ctx, "keygen", "-o", otherKey, "--name", logfixture.Origin); err != nil {
		t.Fatal(err, out)
	}
	code, rs, _ = auditOnce(t, ctx, s.url, "--key", otherKey+".pub", "--state", filepath.Join(dir, "other-state.json"))
	if code != 1 || len(rs) != 1 || rs[0].Verdict != "wrong-key" {
		t.Fatalf("audited with an unrelated key: exit %d %+v", code, rs)
	}
	if code := s.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("SIGTERM: exit %d", code)
	}
}

// 'sealog audit --policy' trusts a checkpoint only with the policy's
// quorum of cosignatures: a log served with two real witnesses passes a
// policy of those two, over HTTP and as a directory, and fails as
// refused against a policy that wants a third witness that never
// cosigned.
func TestAuditPolicyEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	dir := t.TempDir()
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
	}
	if out, err := runBinary(t, ctx, "keygen", "-o", filepath.Join(dir, "log.key"), "--name", "example.com/audited"); err != nil {
		t.Fatal(err, out)
	}
	pub := filepath.Join(dir, "log.key.pub")
	logVKey, _ := os.ReadFile(pub)
	for i := range lines {
		wdir := filepath.Join(dir, fmt.Sprintf("w%d", i+1))
		if out, err := runBinary(t, ctx, "witness", "add-log", "--config", filepath.Join(wdir, "witness.conf"), pub); err != nil {
			t.Fatal(err, out)
		}
		w := startListening(t, ctx, "witness", "--config", filepath.Join(wdir, "witness.conf"), "--state", filepath.Join(wdir, "state"), "--listen", "127.0.0.1:0")
		lines[i] += " " + w.url
	}
	pol := filepath.Join(dir, "policy")
	writeFile(t, pol, "log "+strings.TrimSpace(string(logVKey))+"\n"+strings.Join(lines, "\n")+"\ngroup both all W1 W2\nquorum both\n")
	_, w3 := generateWitness(t, ctx, dir)
	strict := filepath.Join(dir, "strict-policy")
	writeFile(t, strict, "log "+strings.TrimSpace(string(logVKey))+"\n"+strings.Join(lines, "\n")+"\nwitness W3 "+w3+"\ngroup all3 all W1 W2 W3\nquorum all3\n")

	data := filepath.Join(dir, "data")
	s := startServe(t, ctx, data, "--key", filepath.Join(dir, "log.key"), "--policy", pol, "--witness-wait", "20s", "--public-reads")
	c, err := client.New(client.Config{URL: s.url, Token: s.token, VerifierKey: s.vkey})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := c.Append(ctx, sealog.Event{Kind: "audit.policy", Payload: map[string]int{"i": i}}); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	code, rs, stderr := auditOnce(t, ctx, s.url, "--key", pub, "--state", filepath.Join(dir, "s1.json"), "--policy", pol)
	if code != 0 || len(rs) != 1 || !rs[0].Valid || rs[0].VerifiedSize != 3 {
		t.Fatalf("audit --policy of the server: exit %d %+v %s", code, rs, stderr)
	}
	code, rs, _ = auditOnce(t, ctx, s.url, "--key", pub, "--state", filepath.Join(dir, "s2.json"), "--policy", strict)
	if code != 1 || len(rs) != 1 || rs[0].Verdict != "refused" || !strings.Contains(rs[0].Reason, "quorum") || rs[0].VerifiedSize != 0 {
		t.Fatalf("audit with a policy the witnesses do not satisfy: exit %d %+v", code, rs)
	}
	if code := s.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("SIGTERM: exit %d", code)
	}
	logDir := filepath.Join(data, "log")
	code, rs, stderr = auditOnce(t, ctx, logDir, "--key", pub, "--state", filepath.Join(dir, "s3.json"), "--policy", pol)
	if code != 0 || len(rs) != 1 || !rs[0].Valid {
		t.Fatalf("audit --policy of the directory: exit %d %+v %s", code, rs, stderr)
	}
	code, rs, _ = auditOnce(t, ctx, logDir, "--key", pub, "--state", filepath.Join(dir, "s4.json"), "--policy", strict)
	if code != 1 || len(rs) != 1 || rs[0].Verdict != "refused" {
		t.Fatalf("audit of the directory with a policy the witnesses do not satisfy: exit %d %+v", code, rs)
	}
	if code, _, stderr := auditOnce(t, ctx, logDir, "--key", pub, "--state", filepath.Join(dir, "s5.json"), "--policy", filepath.Join(dir, "missing")); code != 3 || !strings.Contains(stderr, "--policy") {
		t.Fatalf("a missing policy file: exit %d %s", code, stderr)
	}
}
