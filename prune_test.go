package sealog_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/store/file"
	"github.com/sealog/sealog/tree"
	"github.com/sealog/sealog/verify"
)

// prunableLog writes n events in batches of 5 into a log with small
// segments, so that it has many sealed segments to prune.
func prunableLog(t *testing.T, n int) (dir string, k *sealog.Key, vkey string) {
	t.Helper()
	skey, vkey := testkit.Keys("prune", testkit.Origin)
	k, _ = sealog.ParseKey(skey)
	dir = filepath.Join(t.TempDir(), "log")
	l := openPrunable(t, dir, k)
	defer l.Close()
	for i := 0; i < n; i += 5 {
		evs := make([]sealog.Event, 5)
		for j := range evs {
			evs[j] = sealog.Event{Kind: "doc.read", Actor: "alice", Payload: map[string]any{"i": i + j, "pad": strings.Repeat("x", 60)}}
		}
		if _, err := l.AppendBatch(context.Background(), evs); err != nil {
			t.Fatal(err)
		}
	}
	return dir, k, vkey
}

func openPrunable(t *testing.T, dir string, k *sealog.Key) *sealog.Log {
	t.Helper()
	l, err := sealog.Open(dir, sealog.Options{Key: k, Logger: testkit.Logger(t), Clock: testkit.Clock(time.Second),
		Rand: testkit.Rand(t.Name() + dir), File: file.Options{SegmentSize: 2048}})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestPrune(t *testing.T) {
	ctx := context.Background()
	dir, k, vkey := prunableLog(t, 100)
	segsBefore, _, _ := layout.Segments(dir)
	l := openPrunable(t, dir, k)
	res, err := l.Prune(ctx, 40)
	if err != nil {
		t.Fatal(err)
	}
	if res.Below == 0 || res.Below > 40 || res.Record.Seq != 100 {
		t.Fatalf("prune result %+v", res)
	}
	P := res.Below
	// Reads below the prune point say so; the rest still read and prove.
	if _, err := l.Entry(ctx, P-1); !errors.Is(err, sealog.ErrPruned) {
		t.Fatalf("reading a pruned entry: %v", err)
	}
	for _, seq := range []uint64{P, P + 7, 99} {
		r, err := l.Entry(ctx, seq)
		if err != nil {
			t.Fatalf("entry %d after pruning: %v", seq, err)
		}
		if _, err := l.InclusionProof(ctx, seq, 101); err != nil || r.Seq != seq {
			t.Fatalf("inclusion proof of %d: %v", seq, err)
		}
	}
	// Appending goes on; a reopen recovers from pruned.json.
	if _, err := l.Append(ctx, sealog.Event{Kind: "after.prune"}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openPrunable(t, dir, k)
	if _, err := l.Append(ctx, sealog.Event{Kind: "after.reopen"}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	segsAfter, _, _ := layout.Segments(dir)
	if len(segsAfter) >= len(segsBefore) || segsAfter[0].First != P {
		t.Fatalf("segments: %d before, %d after, first %d, want first %d", len(segsBefore), len(segsAfter), segsAfter[0].First, P)
	}
	rep, err := verify.Verify(ctx, verify.Dir(dir), verify.Options{Key: vkey})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Valid || rep.Pruned == nil || rep.Pruned.Status != "ok" || rep.Pruned.Below != P || rep.Pruned.Record != 100 || rep.Authenticated != 103 {
		t.Fatalf("pruned log: valid %v, pruned %+v, authenticated %d, problems %+v", rep.Valid, rep.Pruned, rep.Authenticated, rep.Problems)
	}
	var text strings.Builder
	rep.WriteText(&text, verify.TextOptions{Name: dir})
	if !strings.Contains(text.String(), "were deleted on") || !strings.Contains(text.String(), "by the prune record at entry 100") {
		t.Fatalf("the text report does not say what was pruned:\n%s", text.String())
	}

	// Pruning again, further.
	l = openPrunable(t, dir, k)
	res2, err := l.Prune(ctx, 70)
	if err != nil || res2.Below <= P {
		t.Fatalf("second prune: %+v %v", res2, err)
	}
	l.Close()
	rep, _ = verify.Verify(ctx, verify.Dir(dir), verify.Options{Key: vkey})
	if !rep.Valid || rep.Pruned.Below != res2.Below || rep.Pruned.Record != res2.Record.Seq {
		t.Fatalf("after the second prune: %+v %+v", rep.Pruned, rep.Problems)
	}
}

// TestPruneTampered: what an attacker may do to a pruned log, and the
// first invalid seq the verifier names.
func TestPruneTampered(t *testing.T) {
	ctx := context.Background()
	dir, k, vkey := prunableLog(t, 100)
	l := openPrunable(t, dir, k)
	res, err := l.Prune(ctx, 40)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	P := res.Below
	segs, _, _ := layout.Segments(dir)
	cases := []struct {
		name   string
		tamper func(t *testing.T, d string)
		first  uint64
		has    string
	}{
		{"pruned range widened", func(t *testing.T, d string) { widen(t, d, segs[1].First) }, P, "widened"},
		{"pruned.json deleted", func(t *testing.T, d string) { os.Remove(filepath.Join(d, layout.PrunedFile)) }, 0, ""},
		{"pruned.json leaf changed", func(t *testing.T, d string) {
			p, _ := layout.ReadPruned(d)
			p.Leaf[0] ^= 1
			os.WriteFile(filepath.Join(d, layout.PrunedFile), p.Marshal(), 0o644)
		}, P, ""},
		{"a kept segment deleted", func(t *testing.T, d string) {
			os.Remove(filepath.Join(d, layout.SegmentsDir, filepath.Base(segs[1].Path)))
		}, segs[1].First, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := copyLog(t, dir)
			tc.tamper(t, d)
			rep, err := verify.Verify(ctx, verify.Dir(d), verify.Options{Key: vkey})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Valid || rep.Verdict != verify.VerdictTampered || rep.FirstInvalid == nil || *rep.FirstInvalid != tc.first {
				t.Fatalf("verdict %s, first invalid %v, want tampered at %d: %+v", rep.Verdict, rep.FirstInvalid, tc.first, rep.Problems)
			}
			if tc.has != "" && !strings.Contains(strings.ToLower(rep.FirstProblem.Reason+rep.FirstProblem.Kind), tc.has) {
				t.Fatalf("first problem %+v does not say %q", rep.FirstProblem, tc.has)
			}
		})
	}
}

// widen deletes the segments below first and rewrites pruned.json as a
// prune there would: what an attacker who deletes more does.
func widen(t *testing.T, d string, first uint64) {
	t.Helper()
	l, err := sealog.Open(d, sealog.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	p, _ := layout.ReadPruned(d)
	e, err := l.Entry(ctx, first-1)
	if err != nil {
		t.Fatal(err)
	}
	edge, err := sealogEdge(ctx, l, first)
	if err != nil {
		t.Fatal(err)
	}
	p.Below, p.Leaf, p.Time, p.Edge = first, e.LeafHash, e.Time.UnixNano(), edge
	if err := os.WriteFile(filepath.Join(d, layout.PrunedFile), p.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	segs, _, _ := layout.Segments(d)
	for _, s := range segs {
		if s.First < first {
			os.Remove(s.Path)
		}
	}
}

func sealogEdge(ctx context.Context, l *sealog.Log, n uint64) ([]tlog.Hash, error) {
	e, err := tree.Load(n, store.HashReader(ctx, l.Store()))
	return e.Hashes(), err
}

// TestPruneInterrupted: a crash at each step of a prune leaves a log that
// verifies, and the next open or prune finishes the job.
func TestPruneInterrupted(t *testing.T) {
	ctx := context.Background()
	dir, k, vkey := prunableLog(t, 60)
	before := copyLog(t, dir)
	l := openPrunable(t, dir, k)
	res, err := l.Prune(ctx, 30)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	restoreSegments := func(d string) {
		segs, _, _ := layout.Segments(before)
		for _, s := range segs {
			if s.First < res.Below {
				copyFile(t, s.Path, filepath.Join(d, layout.SegmentsDir, filepath.Base(s.Path)))
			}
		}
	}
	valid := func(d, what string) *verify.Report {
		t.Helper()
		rep, err := verify.Verify(ctx, verify.Dir(d), verify.Options{Key: vkey})
		if err != nil || !rep.Valid {
			t.Fatalf("%s: %v %+v", what, err, rep)
		}
		return rep
	}

	// After the record, before pruned.json: nothing is deleted yet.
	d := copyLog(t, dir)
	restoreSegments(d)
	os.Remove(filepath.Join(d, layout.PrunedFile))
	rep := valid(d, "record written, nothing pruned")
	if rep.Pruned != nil || !strings.Contains(strings.Join(rep.Warnings, "\n"), "a prune not finished") {
		t.Fatalf("an unfinished prune: pruned %+v, warnings %q", rep.Pruned, rep.Warnings)
	}
	l = openPrunable(t, d, k)
	if r, err := l.Prune(ctx, 30); err != nil || r.Below != res.Below {
		t.Fatalf("pruning again: %+v %v", r, err)
	}
	l.Close()
	valid(d, "pruned again")

	// After pruned.json, before the segments went: the verifier ignores
	// them, and the writer's next open deletes them.
	d = copyLog(t, dir)
	restoreSegments(d)
	if rep := valid(d, "pruned.json written, segments left"); rep.Pruned == nil || rep.Pruned.Status != "ok" {
		t.Fatalf("pruned %+v", rep.Pruned)
	}
	l = openPrunable(t, d, k)
	l.Close()
	if segs, _, _ := layout.Segments(d); segs[0].First != res.Below {
		t.Fatalf("the open did not finish the prune: first segment %d", segs[0].First)
	}
	valid(d, "after the open")
}
