package tools_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/store/file"
	"github.com/sealog/sealog/tree"
)

// TestPyPrune: verify.py follows a pruned log from docs/FORMAT.md §13
// alone, and agrees with the Go verifier on the genuine log and on each
// tampering, first invalid seq included.
func TestPyPrune(t *testing.T) {
	ctx := context.Background()
	skey, vkey := testkit.Keys("py-prune", testkit.Origin)
	k, _ := sealog.ParseKey(skey)
	dir := filepath.Join(t.TempDir(), "log")
	open := func() *sealog.Log {
		l, err := sealog.Open(dir, sealog.Options{Key: k, Clock: testkit.Clock(time.Second), Rand: testkit.Rand(t.Name()), File: file.Options{SegmentSize: 2048}})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	l := open()
	for i := 0; i < 20; i++ {
		evs := make([]sealog.Event, 4)
		for j := range evs {
			evs[j] = sealog.Event{Kind: "k", Payload: map[string]any{"i": i, "pad": strings.Repeat("y", 80)}}
		}
		if _, err := l.AppendBatch(ctx, evs); err != nil {
			t.Fatal(err)
		}
	}
	res, err := l.Prune(ctx, 30)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	P := res.Below
	segs, _, _ := layout.Segments(dir)
	for _, tc := range []struct {
		name   string
		tamper func(d string)
		valid  bool
		first  *uint64
	}{
		{"intact", func(string) {}, true, nil},
		{"an interrupted prune: segments below the point still there", func(d string) {
			// Put a copy of the first kept segment under a lower name: a
			// leftover wholly below the prune point is ignored.
			cp(t, segs[0].Path, filepath.Join(d, layout.SegmentsDir, layout.SegmentName(1, false)))
		}, true, nil},
		{"widened", func(d string) { widenTo(t, d, segs[1].First) }, false, u64(P)},
		{"pruned.json gone", func(d string) { os.Remove(filepath.Join(d, layout.PrunedFile)) }, false, u64(0)},
		{"pruned.json malformed", func(d string) { os.WriteFile(filepath.Join(d, layout.PrunedFile), []byte(`{"below":1}`), 0o644) }, false, u64(0)},
		{"pruned.json leaf changed", func(d string) {
			p, _ := layout.ReadPruned(d)
			p.Leaf[5] ^= 4
			os.WriteFile(filepath.Join(d, layout.PrunedFile), p.Marshal(), 0o644)
		}, false, u64(P)},
		{"an entry after the prune point changed", func(d string) { damageSeg(t, filepath.Join(d, layout.SegmentsDir, filepath.Base(segs[1].Path))) }, false, u64(segs[1].First)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := filepath.Join(t.TempDir(), "copy")
			if err := os.CopyFS(d, os.DirFS(dir)); err != nil {
				t.Fatal(err)
			}
			tc.tamper(d)
			check(t, d, vkey, nil, tc.valid, tc.first)
		})
	}
}

// widenTo deletes the segments below first and writes the pruned.json a
// prune there would have written.
func widenTo(t *testing.T, d string, first uint64) {
	t.Helper()
	ctx := context.Background()
	l, err := sealog.Open(d, sealog.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	e, err := l.Entry(ctx, first-1)
	if err != nil {
		t.Fatal(err)
	}
	edge, err := tree.Load(first, store.HashReader(ctx, l.Store()))
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	p, _ := layout.ReadPruned(d)
	p.Below, p.Leaf, p.Time, p.Edge = first, e.LeafHash, e.Time.UnixNano(), edge.Hashes()
	os.WriteFile(filepath.Join(d, layout.PrunedFile), p.Marshal(), 0o644)
	segs, _, _ := layout.Segments(d)
	for _, s := range segs {
		if s.First < first {
			os.Remove(s.Path)
		}
	}
}

// damageSeg changes the kind of the first entry of a segment.
func damageSeg(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, []byte(strings.Replace(string(b), `"kind":"k"`, `"kind":"K"`, 1)), 0o644)
}

// TestPyPrunedVector runs verify.py on the pruned-log vector
// (docs/FORMAT.md §13.4).
func TestPyPrunedVector(t *testing.T) {
	vkey, err := os.ReadFile("../testdata/vectors/pruned/log.pub")
	if err != nil {
		t.Fatal(err)
	}
	py, _ := check(t, "../testdata/vectors/pruned/log", strings.TrimSpace(string(vkey)), nil, true, nil)
	if py.Authenticated != 51 || py.Entries != 39 {
		t.Fatalf("verify.py: authenticated %d, entries %d, want 51, 39", py.Authenticated, py.Entries)
	}
}
