package tools_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/internal/testtsa"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/tsa"
)

// TestPyTimestamps: verify.py checks that each stored timestamp is bound
// to the log's checkpoint of its size (docs/FORMAT.md §12.2), and agrees
// with the Go verifier (without TSA roots, which it cannot check) on the
// verdict, the first invalid seq and each timestamp's status.
func TestPyTimestamps(t *testing.T) {
	authority, err := testtsa.New(testtsa.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(authority)
	defer srv.Close()
	c, _ := tsa.New(tsa.Options{URL: srv.URL})
	skey, vkey := testkit.Keys("py-timestamps", testkit.Origin)
	k, _ := sealog.ParseKey(skey)
	dir := filepath.Join(t.TempDir(), "log")
	l, err := sealog.Open(dir, sealog.Options{Key: k, Clock: testkit.Clock(time.Millisecond), Rand: testkit.Rand(t.Name()), Timestamper: c})
	if err != nil {
		t.Fatal(err)
	}
	var size uint64
	for _, n := range []int{2, 4, 3} {
		evs := make([]sealog.Event, n)
		for i := range evs {
			evs[i] = sealog.Event{Kind: "k", Payload: map[string]any{"i": i}}
		}
		if _, err := l.AppendBatch(context.Background(), evs); err != nil {
			t.Fatal(err)
		}
		size += uint64(n)
		want := size
		testkit.Eventually(t, 10*time.Second, "stamped", func() bool { return l.TimestampStatus().Size == want })
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	tsPath := func(d string, n uint64) string {
		return filepath.Join(d, layout.TimestampsDir, layout.TimestampName(n))
	}
	for _, tc := range []struct {
		name   string
		tamper func(d string)
		valid  bool
		first  *uint64
	}{
		{"intact", func(string) {}, true, nil},
		{"token for another checkpoint", func(d string) { cp(t, tsPath(d, 2), tsPath(d, 6)) }, false, u64(2)},
		{"token beyond the log", func(d string) { cp(t, tsPath(d, 9), tsPath(d, 30)) }, false, u64(9)},
		{"garbage token", func(d string) { os.WriteFile(tsPath(d, 9), []byte{0x30, 0x82, 0xff}, 0o644) }, false, u64(6)},
		{"entry changed under a token", func(d string) { damageEntry(t, d, 3) }, false, u64(3)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := filepath.Join(t.TempDir(), "copy")
			if err := os.CopyFS(d, os.DirFS(dir)); err != nil {
				t.Fatal(err)
			}
			tc.tamper(d)
			py, g := check(t, d, vkey, nil, tc.valid, tc.first)
			if len(py.Timestamps) != len(g.Timestamps) {
				t.Fatalf("timestamps: python %d, Go %d", len(py.Timestamps), len(g.Timestamps))
			}
			for i := range py.Timestamps {
				if p, q := py.Timestamps[i], g.Timestamps[i]; p.Size != q.Size || p.From != q.From || p.Status != q.Status {
					t.Errorf("timestamp %d: python %+v, Go %+v", i, p, q)
				}
			}
		})
	}
}

func cp(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func u64(n uint64) *uint64 { return &n }

// damageEntry changes the kind of entry seq in the log's first segment.
func damageEntry(t *testing.T, d string, seq int) {
	t.Helper()
	p := filepath.Join(d, layout.SegmentsDir, layout.SegmentName(0, false))
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(b, []byte("\n"))
	lines[seq] = bytes.Replace(lines[seq], []byte(`"kind":"k"`), []byte(`"kind":"K"`), 1)
	if err := os.WriteFile(p, bytes.Join(lines, nil), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestPyTimestampVectors runs verify.py on the timestamp vectors
// (docs/FORMAT.md §12.4): valid, each timestamp bound to its checkpoint.
func TestPyTimestampVectors(t *testing.T) {
	vkey, err := os.ReadFile("../testdata/vectors/timestamps/log.pub")
	if err != nil {
		t.Fatal(err)
	}
	py, _ := check(t, "../testdata/vectors/timestamps/log", string(bytes.TrimSpace(vkey)), nil, true, nil)
	want := []pyStamp{{2, 0, "bound"}, {5, 2, "bound"}, {9, 5, "bound"}}
	if fmt.Sprint(py.Timestamps) != fmt.Sprint(want) {
		t.Fatalf("verify.py timestamps %+v, want %+v", py.Timestamps, want)
	}
}
