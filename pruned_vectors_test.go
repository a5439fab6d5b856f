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
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := layout.ParsePruned(b)
		if err != nil {
			return
		}
		q, err := layout.ParsePruned(p.Marshal())
		if err != nil || q.Below != p.Below || q.Leaf != p.Leaf || q.Time != p.Time || q.Record != p.Record || len(q.Edge) != len(p.Edge) {
			t.Fatalf("%q parsed to %+v, which marshals to something else: %+v %v", b, p, q, err)
		}
	})
}

// FuzzParsePrune: the prune record parser against its writer.
func FuzzParsePrune(f *testing.F) {
	f.Add(format.AppendPruneEvent(nil, format.Prune{Below: 12}))
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
