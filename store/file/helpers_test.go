//go:build unix

package file_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/store/file"
	"github.com/sealog/sealog/verify"
)

// The tests of this package that need a process of their own (one that is
// killed, or that runs as another user) re-execute the test binary in a
// role registered here.
func TestMain(m *testing.M) {
	testkit.RunChild(map[string]func(string){
		"rotate":   rotateChild,
		"reader":   readerChild,
		"openrw":   openWriteChild,
		"appender": appenderChild,
	})
	os.Exit(m.Run())
}

// testKey is the deterministic key of this package's test logs.
func testKey(t testing.TB) (*sealog.Key, string) {
	skey, _ := testkit.Keys("store/file", "file.example/log")
	k, err := sealog.ParseKey(skey)
	if err != nil {
		t.Fatal(err)
	}
	return k, skey
}

func mustKey(skey string) *sealog.Key {
	k, err := sealog.ParseKey(skey)
	if err != nil {
		panic(err)
	}
	return k
}

// capture is a logger that writes to t.Log and keeps every message, for
// tests of what recovery says.
type capture struct {
	mu  sync.Mutex
	buf bytes.Buffer
	t   testing.TB
}

func (c *capture) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.buf.Write(p)
	c.mu.Unlock()
	c.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func (c *capture) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

func newCapture(t testing.TB) (*capture, *slog.Logger) {
	c := &capture{t: t}
	return c, slog.New(slog.NewTextHandler(c, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// events returns n small events, numbered from base.
func events(base, n int) []sealog.Event {
	evs := make([]sealog.Event, n)
	for i := range evs {
		evs[i] = sealog.Event{Kind: "test.event", Actor: "tester", Payload: map[string]any{"i": base + i, "pad": strings.Repeat("p", (base+i)%50)}}
	}
	return evs
}

// appendN appends n events in batches of batch and fails the test on error.
func appendN(t testing.TB, l *sealog.Log, n, batch int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i := 0; i < n; i += batch {
		if _, err := l.AppendBatch(ctx, events(i, min(batch, n-i))); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
}

// verifyDir verifies the log at dir and fails unless it is valid with
// want entries.
func verifyDir(t testing.TB, dir string, k *sealog.Key, want uint64) *verify.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := verify.Verify(ctx, verify.Dir(dir), verify.Options{Key: k.VerifierKey()})
	if err != nil || !rep.Valid || rep.Entries != want {
		t.Fatalf("verify: %v valid=%v entries=%d (want %d) problems=%+v", err, rep != nil && rep.Valid, entriesOf(rep), want, problemsOf(rep))
	}
	return rep
}

func entriesOf(r *verify.Report) uint64 {
	if r == nil {
		return 0
	}
	return r.Entries
}

func problemsOf(r *verify.Report) any {
	if r == nil {
		return nil
	}
	return r.Problems
}

// snapshot describes every file under dir (but the lock file, whose pid
// every open rewrites): type, mode, size and content hash.
func snapshot(t testing.TB, dir string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if rel == "lock" {
			return nil
		}
		fi, err := os.Lstat(path)
		if err != nil {
			return err
		}
		if d.IsDir() {
			lines = append(lines, fmt.Sprintf("%s/ %v", rel, fi.Mode()))
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		lines = append(lines, fmt.Sprintf("%s %v %d %x", rel, fi.Mode(), fi.Size(), sha256.Sum256(b)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// requireRoot skips a test that needs root (to mount a tmpfs, or to run a
// process as another user), or fails it under CI, which must run it.
func requireRoot(t *testing.T, why string) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("this test needs root (%s) and CI must run it: run the tests as root (e.g. in the CI container), or unset CI to skip it", why)
	}
	t.Skipf("needs root (%s)", why)
}

// tmpfs mounts a tmpfs of the given size (e.g. "2m") on a new directory and
// unmounts it when the test ends.
func tmpfs(t *testing.T, size string) string {
	t.Helper()
	requireRoot(t, "to mount a small tmpfs")
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mount -t tmpfs -o size=%s tmpfs %s: %v\n%s(CI must run this test: give the container the right to mount a tmpfs)", size, dir, err, out)
		}
		t.Skipf("skipped: cannot mount a %s tmpfs to test a small disk (mount: %v: %s); under CI=true this fails", size, err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v\n%s", dir, err, out)
		}
	})
	return dir
}

// freeBytes returns the space available to unprivileged users on the
// filesystem holding path.
func freeBytes(t testing.TB, path string) int64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bavail) * int64(st.Bsize)
}

// asNobody makes cmd run as the unprivileged user nobody, from a copy of
// the test binary that nobody may execute, in a directory it may enter.
func asNobody(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(publicDir(t), "file.test")
	src, err := os.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(bin, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	dst.Close()
	cmd.Path = bin
	cmd.Args[0] = bin
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
}

// publicDir returns a new directory that every user may enter and read
// (t.TempDir makes private ones).
func publicDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for d := dir; d != os.TempDir() && d != "/" && strings.HasPrefix(d, os.TempDir()); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// readerChild opens the log at arg read-only, reads every entry and
// verifies the log, and prints the number of entries read. It is run as
// another user to show that a log's public files are readable.
func readerChild(arg string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l, err := sealog.Open(arg, sealog.Options{ReadOnly: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(5)
	}
	h, err := l.Head(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "head:", err)
		os.Exit(5)
	}
	n := 0
	for _, err := range l.Entries(ctx, 0, h.Size) {
		if err != nil {
			fmt.Fprintln(os.Stderr, "entries:", err)
			os.Exit(5)
		}
		n++
	}
	l.Close()
	rep, err := verify.Verify(ctx, verify.Dir(arg), verify.Options{})
	if err != nil || len(rep.Problems) > 0 {
		fmt.Fprintf(os.Stderr, "verify: %v %+v\n", err, problemsOf(rep))
		os.Exit(6)
	}
	fmt.Println(n, h.Size)
}

// openWriteChild opens the log at arg (dir|skey) for writing and reports
// the outcome on stdout.
func openWriteChild(arg string) {
	dir, skey, _ := strings.Cut(arg, "|")
	l, err := sealog.Open(dir, sealog.Options{Key: mustKey(skey), File: file.Options{SegmentSize: 2048}})
	if err != nil {
		fmt.Println("refused:", err)
		return
	}
	l.Close()
	fmt.Println("opened")
}
