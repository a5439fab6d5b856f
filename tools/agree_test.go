package tools_test

// The two verifiers on the cases of issue 8: logs built from the spec
// (package speclog, not the writer), genuine and forged, and inputs that
// once made them disagree or hang. Each case must get the same report
// from both, and the verdict the spec gives it.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/internal/speclog"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/verify"
)

// opts is how both verifiers are run on a case.
type opts struct {
	key  string   // "": the key in the log
	keys []string // more trusted keys (--keys FILE)
	cps  [][]byte // trusted checkpoints, as files
	all  bool     // every batch signature
}

// both runs both verifiers with a deadline each (a hang fails the test)
// and requires them to agree: the same report, or both refusing the input
// (exit 3). It returns the Go report, nil when it refused.
func both(t *testing.T, dir string, o opts) (pyReport, *verify.Report) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := []string{"verify.py", dir, "--json"}
	if o.key != "" {
		args = append(args, "--key", o.key)
	}
	if o.all {
		args = append(args, "--all-signatures")
	}
	if len(o.keys) > 0 {
		f := filepath.Join(t.TempDir(), "keys")
		if err := os.WriteFile(f, []byte("# trusted keys\n"+strings.Join(o.keys, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--keys", f)
	}
	for i, cp := range o.cps {
		f := filepath.Join(t.TempDir(), fmt.Sprintf("cp%d", i))
		if err := os.WriteFile(f, cp, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--checkpoint", f)
	}
	cmd := exec.CommandContext(ctx, "python3", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ctx.Err() != nil {
		t.Fatalf("verify.py hung on %s", dir)
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running verify.py: %v", err)
	}
	var py pyReport
	if err := json.Unmarshal(out, &py); err != nil {
		t.Fatalf("verify.py output is not JSON (exit %d): %v\n%s\n%s", code, err, out, stderr.Bytes())
	}
	g, gerr := verify.Verify(ctx, verify.Dir(dir), verify.Options{Key: o.key, Keys: o.keys, Checkpoints: o.cps, AllSignatures: o.all})
	if ctx.Err() != nil {
		t.Fatalf("the Go verifier hung on %s", dir)
	}
	switch {
	case gerr != nil && code != 3:
		t.Fatalf("Go refuses the input (%v), verify.py says %s (exit %d)", gerr, brief(py), code)
	case gerr == nil && code == 3:
		t.Fatalf("verify.py refuses the input (%s), Go says %s", py.Error, brief(goView(g)))
	case gerr != nil:
		return py, nil
	}
	if d := disagreement(py, goView(g)); d != "" {
		t.Fatalf("verify.py and the Go verifier disagree: %s\npython: %s\ngo:     %s", d, brief(py), brief(goView(g)))
	}
	if want := map[bool]int{true: 0, false: 1}[g.Valid]; code != want {
		t.Fatalf("verify.py exit code %d, want %d", code, want)
	}
	return py, g
}

// agreeCase is a log and what both verifiers must say of it.
type agreeCase struct {
	name    string
	build   func(t *testing.T) (dir string, o opts)
	verdict string  // "error": both refuse the input
	first   *uint64 // first_invalid
}

func runAgree(t *testing.T, cases []agreeCase) {
	need(t, "python3", "openssl", "zstd")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir, o := tc.build(t)
			py, g := both(t, dir, o)
			switch {
			case tc.verdict == "error" && g != nil:
				t.Fatalf("want both to refuse the input, got %s", brief(goView(g)))
			case tc.verdict != "error" && (g == nil || g.Verdict != tc.verdict || seqStr(g.FirstInvalid) != seqStr(tc.first)):
				t.Fatalf("want verdict %s, first invalid %s; got %s", tc.verdict, seqStr(tc.first), brief(py))
			}
		})
	}
}

// spec builds a log of batches of 2 in segments of about 4 entries, and
// writes it after f has had its way with it.
func spec(t *testing.T, f func(l *speclog.Log)) (*speclog.Log, string) {
	t.Helper()
	l := speclog.New("agree", "agree.example/audit")
	for range 5 {
		l.Append(2)
	}
	if f != nil {
		f(l)
	}
	dir := filepath.Join(t.TempDir(), "log")
	if err := l.Write(dir, speclog.WriteOptions{SegmentEntries: 4}); err != nil {
		t.Fatal(err)
	}
	return l, dir
}

// specCase is a case on a spec log, verified with its key.
func specCase(name string, f func(l *speclog.Log), verdict string, first *uint64) agreeCase {
	return agreeCase{name, func(t *testing.T) (string, opts) {
		l, dir := spec(t, f)
		return dir, opts{key: l.VKey}
	}, verdict, first}
}

// fileCase is a case on a spec log whose files g changes, verified with
// the options o returns.
func fileCase(name string, g func(t *testing.T, l *speclog.Log, dir string) opts, verdict string, first *uint64) agreeCase {
	return agreeCase{name, func(t *testing.T) (string, opts) {
		l, dir := spec(t, nil)
		return dir, g(t, l, dir)
	}, verdict, first}
}

func writeIn(t *testing.T, dir, name string, b []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func segPath(dir string, first uint64) string {
	return filepath.Join(dir, layout.SegmentsDir, layout.SegmentName(first, false))
}

// editSeg replaces old by new in the plain segment starting at first.
func editSeg(t *testing.T, dir string, first uint64, old, new string) {
	t.Helper()
	p := segPath(dir, first)
	b, err := os.ReadFile(p)
	if err != nil || !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%s: no %q (%v)", p, old, err)
	}
	if err := os.WriteFile(p, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mkfifo(t *testing.T, p string) {
	t.Helper()
	os.Remove(p)
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skipf("no FIFO here: %v", err)
	}
}

func erasureEvent(l *speclog.Log, seq uint64) []byte {
	return format.AppendErasureEvent(nil, seq, l.BodyHash(seq), "", "a \"reason\" \\ \u00e9")
}

// TestAgreeLibraryErasure: an entry erased by the library (Log.Erase)
// verifies with both, as legitimately erased; the same entry put in its
// erased form by hand, without the library's record, does not.
func TestAgreeLibraryErasure(t *testing.T) {
	need(t, "python3", "openssl")
	tl := writeLog(t, false, []int{2, 3, 1})
	erasedByHand := tamper(t, tl, 1, func(l []byte) [][]byte { return [][]byte{erase(t, l)} })
	skey, vkey, err := sealog.GenerateKey("example.com/tools-erase")
	if err != nil {
		t.Fatal(err)
	}
	k, err := sealog.ParseKey(skey)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "log")
	l, err := sealog.Open(dir, sealog.Options{Key: k})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 4 {
		if _, err := l.Append(ctx, sealog.Event{Kind: "doc.read", Payload: map[string]any{"n": i}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.Erase(ctx, 1, "GDPR <request> & \"42\""); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	_, g := both(t, dir, opts{key: vkey})
	if !g.Valid || g.Erased != 1 || g.ForgedErasures != 0 {
		t.Fatalf("erased by the library: %s", brief(goView(g)))
	}
	_, g = both(t, erasedByHand, opts{key: tl.vkey})
	if g.Valid || g.ForgedErasures != 1 || seqStr(g.FirstInvalid) != "1" {
		t.Fatalf("erased by hand: %s", brief(goView(g)))
	}
}
