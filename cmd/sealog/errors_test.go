package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/internal/testkit"
)

// newLog makes a key and a log with n events in a new directory and
// returns the directory and the key file.
func newLog(t *testing.T, dir string, n int) (logDir, keyFile string) {
	t.Helper()
	keyFile, logDir = filepath.Join(dir, "k"), filepath.Join(dir, "log")
	if code, _, stderr := runCLI(t, nil, "keygen", "-o", keyFile, "--name", "ex.com/audit"); code != 0 {
		t.Fatalf("keygen: %s", stderr)
	}
	if code, _, stderr := runCLI(t, nil, "init", logDir, "--key", keyFile); code != 0 {
		t.Fatalf("init: %s", stderr)
	}
	var in strings.Builder
	for i := range n {
		fmt.Fprintf(&in, `{"kind":"test.event","actor":"a%d","payload":{"i":%d}}`+"\n", i%7, i)
	}
	if n > 0 {
		if code, _, stderr := runStdin(t, nil, in.String(), "append", logDir, "--key", keyFile); code != 0 {
			t.Fatalf("append: %s", stderr)
		}
	}
	return logDir, keyFile
}

// TestAppendStdinBytes covers input that a text script cannot hold.
func TestAppendStdinBytes(t *testing.T) {
	logDir, key := newLog(t, t.TempDir(), 0)
	code, stdout, stderr := runStdin(t, nil, "{\"kind\":\"a\"}\r\n{\"kind\":\"b\",\"actor\":\"\xff\"}\n", "append", logDir, "--key", key)
	if code != exitIO || !strings.Contains(stderr, "stdin line 2: invalid UTF-8") || !strings.Contains(stderr, "line 1 was appended") {
		t.Errorf("invalid UTF-8: exit %d, stderr %q", code, stderr)
	}
	if strings.Count(stdout, "\n") != 1 {
		t.Errorf("want one receipt, got %q", stdout)
	}
	// The last line may lack its newline; CRLF line ends are fine.
	code, stdout, _ = runStdin(t, nil, "{\"kind\":\"c\"}\r\n{\"kind\":\"d\"}", "append", logDir, "--key", key)
	if code != 0 || strings.Count(stdout, "\n") != 2 {
		t.Errorf("exit %d, receipts %q", code, stdout)
	}
	// A line of exactly the limit is accepted; one byte more is not.
	line := `{"kind":"e","payload":{"p":"` + strings.Repeat("x", 100) + `"}}`
	code, _, stderr = runStdin(t, nil, line+"\n", "append", logDir, "--key", key, "--max-event-size", fmt.Sprint(len(line)))
	if code != 0 {
		t.Errorf("a line at the limit: exit %d, %s", code, stderr)
	}
	code, _, stderr = runStdin(t, nil, line+"\n", "append", logDir, "--key", key, "--max-event-size", fmt.Sprint(len(line)-1))
	if code != exitIO || !strings.Contains(stderr, "stdin line 1: the line is") {
		t.Errorf("a line over the limit: exit %d, %s", code, stderr)
	}
	if code, _, stderr := runCLI(t, nil, "verify", logDir, "--key", key+".pub"); code != 0 {
		t.Errorf("verify: %d %s", code, stderr)
	}
}

func TestParseEvent(t *testing.T) {
	for _, tt := range []struct{ in, err string }{
		{`{"kind":"a"}`, ""},
		{` { "kind" : "a" , "payload" : { "x" : [ 1 , "}" ] } } `, ""},
		{`{"kind":"a\u0062","actor":null,"payload":null}`, ""},
		{`{"kind":"a","payload":{"x":1.5e3,"y":true,"z":null}}`, ""},
		{`{}`, `missing "kind"`},
		{`{"kind":""}`, `missing "kind"`},
		{`{"kind":1}`, "kind must be a JSON string"},
		{`{"kind":"a","kind":"b"}`, "appears twice"},
		{`{"kind":"a","payload":"x"}`, "payload must be a JSON object, not a string"},
		{`{"kind":"a","payload":{"x":}}`, "payload"},
		{`{"kind":"a","payload":{"x":1}`, "payload"},
		{`{"kind":"a"} x`, "after the event object"},
		{`[1]`, "not a JSON object"},
		{`{"kind":"a","time":"now"}`, `unknown member "time"`},
		{"{\"kind\":\"a\x01\"}", "control character"},
		{`{"kind":"a`, "unterminated"},
	} {
		_, _, err := parseEvent([]byte(tt.in), nil)
		if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("parseEvent(%s) = %v, want %q", tt.in, err, tt.err)
		}
	}
}

// TestTailFollow runs 'sealog tail -f' while another writer appends, and
// stops it as Ctrl-C would: it exits 0.
func TestTailFollow(t *testing.T) {
	logDir, keyFile := newLog(t, t.TempDir(), 3)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(&env{ctx: ctx, stdin: strings.NewReader(""), stdout: &syncWriter{w: &stdout}, stderr: &stderr, getenv: func(string) string { return "" }}, []string{"tail", logDir, "-f", "-n", "1", "--json"})
	}()
	testkit.Eventually(t, 20*time.Second, "tail -f prints the last entry", func() bool {
		return strings.Contains(stdoutString(&stdout), `"seq":2`)
	})
	key, err := sealog.LoadKey(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	l, err := sealog.Open(logDir, sealog.Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := l.Append(ctx, sealog.Event{Kind: fmt.Sprintf("followed.%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	testkit.Eventually(t, 20*time.Second, "tail -f follows the new entries", func() bool {
		return strings.Contains(stdoutString(&stdout), "followed.2")
	})
	l.Close()
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("tail -f exited %d: %s", code, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("tail -f did not stop within 20s of its context ending")
	}
	out := stdout.String()
	if strings.Count(out, "\n") != 4 || !strings.Contains(out, `"seq":2`) || !strings.Contains(out, "followed.2") {
		t.Errorf("tail -f printed:\n%s", out)
	}
}

var outMu = make(chan struct{}, 1)

// syncWriter serialises writes, so a test can read while a command writes.
type syncWriter struct{ w *bytes.Buffer }

func (s *syncWriter) Write(p []byte) (int, error) {
	outMu <- struct{}{}
	defer func() { <-outMu }()
	return s.w.Write(p)
}

func stdoutString(b *bytes.Buffer) string {
	outMu <- struct{}{}
	defer func() { <-outMu }()
	return b.String()
}

// TestUnreadableSegment checks exit 3 for a segment nobody may read. As
// root, where chmod 000 does not stop reads, the binary runs as user
// nobody instead.
func TestUnreadableSegment(t *testing.T) {
	base, err := os.MkdirTemp("", "sealog-perm-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(base)
	logDir, key := newLog(t, base, 5)
	seg := filepath.Join(logDir, "segments", "00000000000000000000.jsonl")
	if err := os.Chmod(seg, 0); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		code, _, stderr := runCLI(t, nil, "verify", logDir, "--key", key+".pub")
		if code != exitIO || !strings.Contains(stderr, "permission denied") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
		return
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skip("no test binary path:", err)
	}
	bin := filepath.Join(base, "sealog")
	b, _ := os.ReadFile(exe)
	os.WriteFile(bin, b, 0o755)
	filepath.WalkDir(base, func(p string, d os.DirEntry, err error) error {
		if d.IsDir() {
			os.Chmod(p, 0o755)
		} else if p != seg && p != bin {
			os.Chmod(p, 0o644)
		}
		return nil
	})
	cmd := exec.Command(bin, "verify", logDir, "--key", key+".pub")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	ee, ok := err.(*exec.ExitError)
	if !ok {
		t.Skipf("cannot run as user nobody (%v): the check needs a non-root user", err)
	}
	if ee.ExitCode() != exitIO || !strings.Contains(stderr.String(), "permission denied") {
		t.Errorf("as nobody: exit %d, stderr %q", ee.ExitCode(), stderr.String())
	}
}

// TestFullDisk appends to a log on a 64 KiB tmpfs until the disk is full:
// the command exits 3, every receipt it printed is for an entry that
// verifies, and nothing half-written remains. It needs root (mount) and
// is skipped otherwise; it leaves no mount behind.
func TestFullDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	if _, err := exec.LookPath("mount"); err != nil {
		t.Skip("no mount command")
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (%v: %s): skipping the full-disk check", err, out)
	}
	defer func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", mnt, err, out)
		}
	}()
	keyDir := t.TempDir()
	keyFile := filepath.Join(keyDir, "k")
	runCLI(t, nil, "keygen", "-o", keyFile, "--name", "ex.com/audit")
	logDir := filepath.Join(mnt, "log")
	if code, _, stderr := runCLI(t, nil, "init", logDir, "--key", keyFile); code != 0 {
		t.Fatalf("init on a small tmpfs: %s", stderr)
	}
	var in strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&in, `{"kind":"fill","payload":{"pad":"%s","i":%d}}`+"\n", strings.Repeat("y", 100), i)
	}
	code, stdout, stderr := runStdin(t, nil, in.String(), "append", logDir, "--key", keyFile)
	if code != exitIO || !strings.Contains(stderr, "no space left on device") || !strings.Contains(stderr, "the rest were not") {
		t.Fatalf("append on a full disk: exit %d, stderr %q", code, stderr)
	}
	receipts := strings.Count(stdout, "\n")
	code, vout, _ := runCLI(t, nil, "verify", logDir, "--key", keyFile+".pub", "--json")
	if code != 0 || !strings.Contains(vout, fmt.Sprintf(`"entries": %d,`, receipts)) {
		t.Errorf("after a full disk, %d receipts; verify exit %d:\n%s", receipts, code, vout)
	}
}
