package sealog_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/internal/vectors"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/tree"
	"github.com/sealog/sealog/verify"
)

const prunedVectors = "testdata/vectors/pruned"

// TestPrunedVector checks the pruned-log vector (docs/FORMAT.md §13.4):
// the generator writes the committed bytes, pruned.json and the prune
// record say what §13 says, and the log verifies, pruned below 12 by the
// record at entry 48.
func TestPrunedVector(t *testing.T) {
	tmp := t.TempDir()
	if err := vectors.GeneratePruned(tmp); err != nil {
		t.Fatal(err)
	}
	n := 0
	filepath.WalkDir(tmp, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(tmp, p)
		got, _ := os.ReadFile(p)
		if want, err := os.ReadFile(filepath.Join(prunedVectors, rel)); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s differs from what the generator writes (%v): run go run testdata/vectors/pruned/gen.go", rel, err)
		}
		n++
		return nil
	})
	if n < 8 {
		t.Fatalf("the generator wrote %d files", n)
	}
	logDir := filepath.Join(prunedVectors, "log")
	p, err := layout.ReadPruned(logDir)
	if err != nil || p == nil || p.Below != 12 || p.Record != 48 {
		t.Fatalf("pruned.json: %+v %v", p, err)
	}
	if !bytes.Equal(p.Marshal(), must(os.ReadFile(filepath.Join(logDir, layout.PrunedFile)))) {
		t.Fatal("pruned.json is not in the form Marshal writes")
	}
	// The prune record, entry 48, names the prune point, its link and the
	// root of its edge.
	seg := must(os.ReadFile(filepath.Join(logDir, layout.SegmentsDir, layout.SegmentName(48, false))))
	ln, err := format.ParseLine(bytes.SplitN(seg, []byte("\n"), 2)[0])
	if err != nil {
		t.Fatal(err)
	}
	rec, ok := format.ParsePrune(ln.Event)
	edge, _ := tree.FromHashes(p.Below, p.Edge)
	if !ok || rec.Below != 12 || rec.Leaf != p.Leaf || rec.Root != edge.Root() {
		t.Fatalf("entry 48 is not the prune record of pruned.json: %q", ln.Event)
	}
	if got := format.AppendPruneEvent(nil, rec); !bytes.Equal(got, ln.Event) {
		t.Fatalf("AppendPruneEvent gives %q, the log holds %q", got, ln.Event)
	}
	vkey := strings.TrimSpace(string(must(os.ReadFile(filepath.Join(prunedVectors, "log.pub")))))
	rep, err := verify.Verify(context.Background(), verify.Dir(logDir), verify.Options{Key: vkey})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Valid || rep.Pruned == nil || rep.Pruned.Below != 12 || rep.Pruned.Record != 48 || rep.Pruned.Status != "ok" || rep.Authenticated != 51 || rep.Entries != 39 {
		t.Fatalf("the pruned vector: valid %v, pruned %+v, authenticated %d, entries %d, %+v", rep.Valid, rep.Pruned, rep.Authenticated, rep.Entries, rep.Problems)
	}
}

// FuzzParsePruned: pruned.json is untrusted; its parser never panics and
// what it accepts marshals back to a file it accepts the same.
func FuzzParsePruned(f *testing.F) {
	f.Add(must(os.ReadFile(filepath.Join(prunedVectors, "log", layout.PrunedFile))))
	f.Add([]byte(`{"below":1,"leaf":"","time":"","edge":[],"record":1}`))
	f.Add(must(os.ReadFile(filepath.Join(prunedRotatedVectors, "log", layout.PrunedFile))))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := layout.ParsePruned(b)
		if err != nil {
			return
		}
		q, err := layout.ParsePruned(p.Marshal())
		if err != nil || q.Below != p.Below || q.Leaf != p.Leaf || q.Time != p.Time || q.Record != p.Record || len(q.Edge) != len(p.Edge) || len(q.Rotations) != len(p.Rotations) {
			t.Fatalf("%q parsed to %+v, which marshals to something else: %+v %v", b, p, q, err)
		}
	})
}

// FuzzParsePrune: the prune record parser against its writer.
func FuzzParsePrune(f *testing.F) {
	f.Add(format.AppendPruneEvent(nil, format.Prune{Below: 12}))
	f.Add(format.AppendPruneEvent(nil, format.Prune{Below: 38, Rotations: 2}))
	f.Add([]byte(`{"kind":"sealog.prune","payload":{"below":0}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, ok := format.ParsePrune(b)
		if ok && !bytes.Equal(format.AppendPruneEvent(nil, p), b) {
			t.Fatalf("%q accepted but is not the one form: %q", b, format.AppendPruneEvent(nil, p))
		}
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

const prunedRotatedVectors = "testdata/vectors/pruned-rotated"

// TestPrunedRotatedVector checks the pruned rotated vector
// (docs/FORMAT.md §13.4): the generator writes the committed bytes,
// pruned.json keeps both rotation records (entries 16 and 33) with what
// proves them in the tree at 38, the prune record counts them, and the
// log verifies with any key of its chain, which the report lists whole.
func TestPrunedRotatedVector(t *testing.T) {
	tmp := t.TempDir()
	if err := vectors.GeneratePrunedRotated(tmp); err != nil {
		t.Fatal(err)
	}
	filepath.WalkDir(tmp, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(tmp, p)
		got, _ := os.ReadFile(p)
		if want, err := os.ReadFile(filepath.Join(prunedRotatedVectors, rel)); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s differs from what the generator writes (%v): run go run testdata/vectors/pruned-rotated/gen.go", rel, err)
		}
		return nil
	})
	logDir := filepath.Join(prunedRotatedVectors, "log")
	p, err := layout.ReadPruned(logDir)
	if err != nil || p == nil || p.Below != 38 || p.Record != 50 || len(p.Rotations) != 2 {
		t.Fatalf("pruned.json: %+v %v", p, err)
	}
	edge, _ := tree.FromHashes(p.Below, p.Edge)
	vk := strings.Fields(string(must(os.ReadFile(filepath.Join(prunedRotatedVectors, "keys")))))
	for i, want := range []struct {
		seq       uint64
		key, prev string
	}{{16, vk[1], vk[0]}, {33, vk[2], vk[1]}} {
		kc, err := p.Rotations[i].Check(p.Below, edge.Root())
		if err != nil || kc.Seq != want.seq || kc.Rotation.Key != want.key || kc.Rotation.Prev != want.prev || kc.Size != want.seq+1 {
			t.Fatalf("kept rotation %d: %+v %v", i, kc, err)
		}
	}
	seg := must(os.ReadFile(filepath.Join(logDir, layout.SegmentsDir, layout.SegmentName(50, false))))
	ln, err := format.ParseLine(bytes.SplitN(seg, []byte("\n"), 2)[0])
	if err != nil {
		t.Fatal(err)
	}
	if rec, ok := format.ParsePrune(ln.Event); !ok || rec.Below != 38 || rec.Rotations != 2 || rec.Root != edge.Root() {
		t.Fatalf("entry 50 is not the prune record of pruned.json: %q", ln.Event)
	}
	for _, opts := range []verify.Options{{Key: vk[0]}, {Key: vk[1]}, {Key: vk[2]}, {Key: vk[0], Keys: vk[1:]}} {
		rep, err := verify.Verify(context.Background(), verify.Dir(logDir), opts)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Valid || rep.Pruned == nil || rep.Pruned.Below != 38 || rep.Pruned.Status != "ok" || rep.Authenticated != 53 || len(rep.Keys) != 3 ||
			rep.Keys[1].First != 17 || *rep.Keys[1].Last != 33 || rep.Keys[2].First != 34 {
			t.Fatalf("the pruned rotated vector with %s: valid %v, pruned %+v, authenticated %d, keys %+v, %+v", opts.Key, rep.Valid, rep.Pruned, rep.Authenticated, rep.Keys, rep.Problems)
		}
	}
}

// TestPruneRecordForms: the prune record's two forms (docs/FORMAT.md
// §13.1), without and with the count of rotation records, and what is not
// one.
func TestPruneRecordForms(t *testing.T) {
	h := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		event string
		ok    bool
		want  format.Prune
	}{
		{`{"kind":"sealog.prune","payload":{"below":12,"leaf":"` + h + `","root":"` + h + `"}}`, true, format.Prune{Below: 12}},
		{`{"kind":"sealog.prune","payload":{"below":12,"leaf":"` + h + `","root":"` + h + `","rotations":2}}`, true, format.Prune{Below: 12, Rotations: 2}},
		{`{"kind":"sealog.prune","payload":{"below":12,"leaf":"` + h + `","root":"` + h + `","rotations":0}}`, false, format.Prune{}},
		{`{"kind":"sealog.prune","payload":{"below":12,"leaf":"` + h + `","root":"` + h + `","rotations":02}}`, false, format.Prune{}},
		{`{"kind":"sealog.prune","payload":{"below":12,"leaf":"` + h + `","root":"` + h + `","rotations":2,"x":1}}`, false, format.Prune{}},
		{`{"kind":"sealog.prune","payload":{"below":12,"leaf":"` + h + `","root":"` + h + `","rotations":}}`, false, format.Prune{}},
	} {
		p, ok := format.ParsePrune([]byte(tc.event))
		if ok != tc.ok || ok && (p.Below != tc.want.Below || p.Rotations != tc.want.Rotations) {
			t.Errorf("%s: %+v %v, want %+v %v", tc.event, p, ok, tc.want, tc.ok)
		}
		if ok && string(format.AppendPruneEvent(nil, p)) != tc.event {
			t.Errorf("%s does not round-trip: %s", tc.event, format.AppendPruneEvent(nil, p))
		}
	}
}
