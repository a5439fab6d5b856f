package sealog_test

import (
	"context"
	"crypto/x509"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/internal/testtsa"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/tsa"
	"github.com/sealog/sealog/tstoken"
	"github.com/sealog/sealog/verify"
)

// stampedLog writes a log of batches of the given sizes, each stamped by
// authority, and returns its directory and verifier key.
func stampedLog(t testing.TB, authority *testtsa.TSA, batches []int) (dir, vkey string) {
	t.Helper()
	srv := httptest.NewServer(authority)
	t.Cleanup(srv.Close)
	c, err := tsa.New(tsa.Options{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	skey, vkey := testkit.Keys("timestamps", testkit.Origin)
	k, err := sealog.ParseKey(skey)
	if err != nil {
		t.Fatal(err)
	}
	dir = filepath.Join(t.TempDir(), "log")
	l, err := sealog.Open(dir, sealog.Options{Key: k, Logger: testkit.Logger(t), Clock: testkit.Clock(time.Millisecond),
		Rand: testkit.Rand(t.Name()), Timestamper: c})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	var size uint64
	for _, n := range batches {
		evs := make([]sealog.Event, n)
		for i := range evs {
			evs[i] = sealog.Event{Kind: "doc.read", Actor: "alice", Payload: map[string]any{"i": i}}
		}
		if _, err := l.AppendBatch(ctx, evs); err != nil {
			t.Fatal(err)
		}
		size += uint64(n)
		want := size
		testkit.Eventually(t, 10*time.Second, "a timestamp for each batch", func() bool {
			st := l.TimestampStatus()
			return st.Size == want
		})
	}
	return dir, vkey
}

type x509Cert = x509.Certificate

func roots(t testing.TB, a *testtsa.TSA) []*x509Cert {
	t.Helper()
	r, err := tsa.ParseRoots(a.CAPEM)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestTimestampsVerify(t *testing.T) {
	authority, err := testtsa.New(testtsa.Options{})
	if err != nil {
		t.Fatal(err)
	}
	other, err := testtsa.New(testtsa.Options{Name: "another TSA"})
	if err != nil {
		t.Fatal(err)
	}
	dir, vkey := stampedLog(t, authority, []int{3, 5, 4})
	ctx := context.Background()

	rep, err := verify.Verify(ctx, verify.Dir(dir), verify.Options{Key: vkey, Timestamps: tstoken.Checker{Roots: roots(t, authority)}})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Valid || len(rep.Timestamps) != 3 || rep.TimestampedTo != 12 || !rep.TimestampsChecked {
		t.Fatalf("intact stamped log: valid %v, %d timestamps, to %d: %+v", rep.Valid, len(rep.Timestamps), rep.TimestampedTo, rep.Problems)
	}
	for i, want := range []struct{ from, size uint64 }{{0, 3}, {3, 8}, {8, 12}} {
		got := rep.Timestamps[i]
		if got.Status != "ok" || got.From != want.from || got.Size != want.size || got.TSA != "CN=sealog test TSA" || got.Time.IsZero() {
			t.Errorf("timestamp %d: %+v, want ok, entries %d to %d", i, got, want.from, want.size-1)
		}
	}
	// Without roots: bound, not checked for who signed.
	rep, err = verify.Verify(ctx, verify.Dir(dir), verify.Options{Key: vkey, Timestamps: tstoken.Checker{}})
	if err != nil || !rep.Valid || rep.Timestamps[0].Status != "bound" || rep.TimestampsChecked {
		t.Fatalf("without roots: %v %+v", err, rep)
	}
	// Without a checker: listed, not checked, no time claimed.
	rep, err = verify.Verify(ctx, verify.Dir(dir), verify.Options{Key: vkey})
	if err != nil || !rep.Valid || rep.Timestamps[0].Status != "not checked" || rep.TimestampedTo != 0 {
		t.Fatalf("without a checker: %v %+v", err, rep)
	}

	// A genuine token over another message: what an attacker who asks
	// the TSA for a token of his own gets.
	tsrOf := func(a *testtsa.TSA, _ uint64) []byte {
		return stampMessage(t, a, []byte("not a checkpoint of this log"))
	}
	cases := []struct {
		name      string
		tamper    func(d string, ts func(uint64) string)
		roots     []*x509Cert
		verdict   string
		first     *uint64
		reasonHas string
	}{
		{"token for another checkpoint", func(d string, ts func(uint64) string) { copyFile(t, ts(3), ts(8)) },
			roots(t, authority), verify.VerdictTampered, ptr(3), "not over the log's checkpoint of size 8"},
		{"token over another message", func(d string, ts func(uint64) string) { write(t, ts(12), tsrOf(authority, 12)) },
			roots(t, authority), verify.VerdictTampered, ptr(8), "not over the log's checkpoint of size 12"},
		{"token by a TSA the roots do not trust", func(d string, ts func(uint64) string) { write(t, ts(8), restamp(t, other, 8, dir, vkey)) },
			roots(t, authority), verify.VerdictTampered, ptr(3), "was replaced"},
		{"token for a size beyond the log", func(d string, ts func(uint64) string) { copyFile(t, ts(12), ts(20)) },
			roots(t, authority), verify.VerdictTampered, ptr(12), "the log holds 12"},
		{"wrong roots", func(string, func(uint64) string) {}, roots(t, other), verify.VerdictIncomplete, nil, "were the right roots given"},
		{"garbage token", func(d string, ts func(uint64) string) { write(t, ts(3), []byte("junk")) },
			roots(t, authority), verify.VerdictTampered, ptr(0), "not a granted RFC 3161"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := copyLog(t, dir)
			tc.tamper(d, func(n uint64) string { return filepath.Join(d, layout.TimestampsDir, layout.TimestampName(n)) })
			rep, err := verify.Verify(ctx, verify.Dir(d), verify.Options{Key: vkey, Timestamps: tstoken.Checker{Roots: tc.roots}})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Valid || rep.Verdict != tc.verdict {
				t.Fatalf("verdict %s, want %s: %+v", rep.Verdict, tc.verdict, rep.Problems)
			}
			if (rep.FirstInvalid == nil) != (tc.first == nil) || tc.first != nil && *rep.FirstInvalid != *tc.first {
				t.Fatalf("first invalid %v, want %v: %+v", rep.FirstInvalid, tc.first, rep.Problems)
			}
			if !strings.Contains(rep.FirstProblem.Reason, tc.reasonHas) {
				t.Fatalf("reason %q does not say %q", rep.FirstProblem.Reason, tc.reasonHas)
			}
			if rep.Authenticated != 12 {
				t.Fatalf("the entries themselves are intact, yet authenticated %d", rep.Authenticated)
			}
		})
	}
}

func TestTimestampsNeedCriticalEKU(t *testing.T) {
	for _, eku := range []string{"noncritical", "none"} {
		t.Run(eku, func(t *testing.T) {
			weak, err := testtsa.New(testtsa.Options{Name: "weak TSA", EKU: eku})
			if err != nil {
				t.Fatal(err)
			}
			dir, vkey := stampedLog(t, weak, []int{2, 2})
			rep, err := verify.Verify(context.Background(), verify.Dir(dir), verify.Options{Key: vkey, Timestamps: tstoken.Checker{Roots: roots(t, weak)}})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Valid || rep.Verdict != verify.VerdictIncomplete || rep.TimestampedTo != 0 {
				t.Fatalf("tokens of a TSA without the critical timeStamping usage: verdict %s, timestamped to %d", rep.Verdict, rep.TimestampedTo)
			}
			if !strings.Contains(rep.Timestamps[0].Problem, "timeStamping") {
				t.Fatalf("problem %q does not name the key usage", rep.Timestamps[0].Problem)
			}
		})
	}
}

// TestTimestampsTSADown: appends never wait for a TSA that is down; the
// gap shows in TimestampStatus, and closes once the TSA is back.
func TestTimestampsTSADown(t *testing.T) {
	authority, err := testtsa.New(testtsa.Options{})
	if err != nil {
		t.Fatal(err)
	}
	authority.SetDown(true)
	srv := httptest.NewServer(authority)
	defer srv.Close()
	c, _ := tsa.New(tsa.Options{URL: srv.URL})
	skey, _ := testkit.Keys("timestamps", testkit.Origin)
	k, _ := sealog.ParseKey(skey)
	l, err := sealog.Open(filepath.Join(t.TempDir(), "log"), sealog.Options{Key: k, Logger: testkit.Logger(t), Timestamper: c})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i := 0; i < 20; i++ {
		if _, err := l.Append(ctx, sealog.Event{Kind: "k", Payload: map[string]any{"i": i}}); err != nil {
			t.Fatal(err)
		}
	}
	testkit.Eventually(t, 10*time.Second, "failures counted", func() bool { return l.TimestampStatus().Failures > 0 })
	st := l.TimestampStatus()
	if st.Size != 0 || st.Head != 20 || st.LastError == "" || !strings.Contains(st.LastError, "503") {
		t.Fatalf("status while the TSA is down: %+v", st)
	}
	authority.SetDown(false)
	if _, err := l.Append(ctx, sealog.Event{Kind: "k", Payload: map[string]any{}}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 10*time.Second, "stamped once the TSA is back", func() bool { return l.TimestampStatus().Size == 21 })
	if st := l.TimestampStatus(); st.LastError != "" || st.Stamped < 1 {
		t.Fatalf("status once back: %+v", st)
	}
}

// TestTimestampsNonceChecked: the client takes only a granted token over
// its message with the nonce it sent.
func TestTimestampsNonceChecked(t *testing.T) {
	authority, err := testtsa.New(testtsa.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(authority)
	defer srv.Close()
	c, _ := tsa.New(tsa.Options{URL: srv.URL, Roots: roots(t, authority)})
	ctx := context.Background()
	if _, err := c.Timestamp(ctx, []byte("m")); err != nil {
		t.Fatal(err)
	}
	authority.SetNoNonce(true)
	if _, err := c.Timestamp(ctx, []byte("m")); err == nil || !strings.Contains(err.Error(), "nonce") {
		t.Fatalf("a token without the nonce: %v", err)
	}
	authority.SetNoNonce(false)
	authority.SetWrongHash(true)
	if _, err := c.Timestamp(ctx, []byte("m")); err == nil || !strings.Contains(err.Error(), "imprint") {
		t.Fatalf("a token over another message: %v", err)
	}
	authority.SetWrongHash(false)
	authority.SetRefuse(true)
	if _, err := c.Timestamp(ctx, []byte("m")); err == nil || !strings.Contains(err.Error(), "rejected") {
		t.Fatalf("a refusal: %v", err)
	}
}

func stampMessage(t *testing.T, a *testtsa.TSA, msg []byte) []byte {
	t.Helper()
	srv := httptest.NewServer(a)
	defer srv.Close()
	c, _ := tsa.New(tsa.Options{URL: srv.URL})
	b, err := c.Timestamp(context.Background(), msg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// restamp returns a token by a over the log's genuine checkpoint of the
// given size.
func restamp(t *testing.T, a *testtsa.TSA, size uint64, dir, _ string) []byte {
	t.Helper()
	l, err := sealog.Open(dir, sealog.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := l.CheckpointAt(context.Background(), size)
	if err != nil {
		t.Fatal(err)
	}
	return stampMessage(t, a, checkpoint.Checkpoint{Origin: c.Origin, Size: c.Size, Root: c.Root}.Text())
}

func copyLog(t *testing.T, dir string) string {
	t.Helper()
	d := filepath.Join(t.TempDir(), "copy")
	if err := os.CopyFS(d, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	return d
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	write(t, to, b)
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func ptr(n uint64) *uint64 { return &n }

// TestTimestampsAfterRestart: the gap counts from the newest timestamp
// already stored, not from zero, after a restart.
func TestTimestampsAfterRestart(t *testing.T) {
	authority, err := testtsa.New(testtsa.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir, _ := stampedLog(t, authority, []int{2, 3})
	authority.SetDown(true)
	srv := httptest.NewServer(authority)
	defer srv.Close()
	c, _ := tsa.New(tsa.Options{URL: srv.URL})
	skey, _ := testkit.Keys("timestamps", testkit.Origin)
	k, _ := sealog.ParseKey(skey)
	l, err := sealog.Open(dir, sealog.Options{Key: k, Logger: testkit.Logger(t), Timestamper: c})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := l.Append(context.Background(), sealog.Event{Kind: "k"}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 10*time.Second, "the stored timestamps read and the new batch tried", func() bool {
		st := l.TimestampStatus()
		return st.Size == 5 && st.Head == 6 && st.Failures > 0
	})
}
