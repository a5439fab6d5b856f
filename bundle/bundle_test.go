package bundle_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/bundle"
)

var update = flag.Bool("update", false, "rewrite the vectors in testdata/bundle")

const (
	vectorLog = "../testdata/vectors/log"
	vectorDir = "../testdata/bundle"
)

// vectorSeqs are the entries of the bundle vector: live entries, the
// erased entry 4, a run, and the last entry.
var vectorSeqs = []uint64{3, 4, 10, 11, 12, 22}

func vectorKey(t testing.TB) string {
	b, err := os.ReadFile("../testdata/vectors/log.pub")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// vectors builds the bundle, inclusion proof and consistency proof
// vectors from the deterministic test vector log.
func vectors(t *testing.T) map[string][]byte {
	l, err := sealog.Open(vectorLog, sealog.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	b, err := bundle.Build(ctx, l, vectorSeqs, bundle.Options{})
	if err != nil {
		t.Fatal(err)
	}
	en, err := l.Entry(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	ck, _ := l.Checkpoint(ctx)
	rp, err := l.InclusionProof(ctx, 3, ck.Size)
	if err != nil {
		t.Fatal(err)
	}
	inc := &bundle.InclusionProof{Line: en.Line, Index: 3, Proof: rp, Checkpoint: ck.Note}
	old, err := l.CheckpointAt(ctx, 4)
	if err != nil {
		t.Fatal(err)
	}
	tp, err := l.ConsistencyProof(ctx, 4, ck.Size)
	if err != nil {
		t.Fatal(err)
	}
	cons := &bundle.ConsistencyProof{Old: old.Note, New: ck.Note, Proof: tp}
	return map[string][]byte{
		"vector.bundle":          b.Marshal(),
		"entry3.tlog-proof":      inc.Marshal(),
		"4-23.consistency-proof": cons.Marshal(),
	}
}

// TestVectors checks the committed vectors against what Build and the
// proof encoders make from the vector log, and verifies them.
func TestVectors(t *testing.T) {
	for name, want := range vectors(t) {
		path := filepath.Join(vectorDir, name)
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./bundle -update to write it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what the code builds from %s", path, vectorLog)
		}
	}
	key := vectorKey(t)
	data, _ := os.ReadFile(filepath.Join(vectorDir, "vector.bundle"))
	res, err := bundle.Verify(data, key)
	if err != nil || !res.Valid {
		t.Fatalf("vector bundle: %v %+v", err, res)
	}
	if len(res.Entries) != len(vectorSeqs) || !res.Entries[1].Erased || res.Entries[0].Kind != "role.grant" || res.Checkpoint.Size != 23 {
		t.Errorf("decoded entries: %+v", res.Entries)
	}
	inc, _ := os.ReadFile(filepath.Join(vectorDir, "entry3.tlog-proof"))
	p, err := bundle.ParseInclusionProof(inc)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := p.Verify(key); err != nil || !r.Valid || r.Entries[0].Resource != "doc/3" {
		t.Errorf("inclusion proof: %v %+v", err, r)
	}
	cons, _ := os.ReadFile(filepath.Join(vectorDir, "4-23.consistency-proof"))
	cp, err := bundle.ParseConsistencyProof(cons)
	if err != nil {
		t.Fatal(err)
	}
	if o, n, err := cp.Verify(key); err != nil || o.Size != 4 || n.Size != 23 {
		t.Errorf("consistency proof: %v %d %d", err, o.Size, n.Size)
	}
}

// TestTamper changes a vector bundle in the ways an attacker would and
// checks that each is caught.
func TestTamper(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(vectorDir, "vector.bundle"))
	if err != nil {
		t.Fatal(err)
	}
	key := vectorKey(t)
	_, otherKey, _ := sealog.GenerateKey("vectors.example/audit")
	_, foreignKey, _ := sealog.GenerateKey("other.example/audit")
	for _, tt := range []struct {
		name, old, new, key string
		notBundle           bool
	}{
		{name: "payload changed", old: `198.51.100.10`, new: `198.51.100.99`},
		{name: "time changed", old: `09:00:00.007407402Z\",\"prev`, new: `09:00:00.007407403Z\",\"prev`},
		{name: "seq changed", old: `"seq": 22`, new: `"seq": 21`},
		{name: "proof hash changed", old: `"proof": [` + "\n        \"", new: `"proof": [` + "\n        \"A"},
		{name: "checkpoint root changed", old: `\n23\n`, new: `\n24\n`},
		{name: "other key", key: otherKey},
		{name: "other origin", key: foreignKey},
		{name: "unknown member", old: `"origin"`, new: `"extra": 1, "origin"`},
		{name: "out of order", old: `"seq": 3,`, new: `"seq": 30,`},
		{name: "other version", old: `sealog-bundle/v1`, new: `sealog-bundle/v2`, notBundle: true},
		{name: "not JSON", old: `{`, new: `[`, notBundle: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := data
			if tt.old != "" {
				if !bytes.Contains(d, []byte(tt.old)) {
					t.Fatalf("vector lacks %q", tt.old)
				}
				d = bytes.Replace(d, []byte(tt.old), []byte(tt.new), 1)
			}
			k := key
			if tt.key != "" {
				k = tt.key
			}
			res, err := bundle.Verify(d, k)
			switch {
			case tt.notBundle:
				if err == nil || !strings.Contains(err.Error(), "not a sealog evidence bundle") {
					t.Errorf("want ErrNotBundle, got %v", err)
				}
			case err == nil && res.Valid:
				t.Errorf("a tampered bundle verified")
			}
		})
	}
}

func TestBuildErrors(t *testing.T) {
	l, err := sealog.Open(vectorLog, sealog.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	for _, seqs := range [][]uint64{nil, {3, 3}, {5, 4}, {23}} {
		if _, err := bundle.Build(ctx, l, seqs, bundle.Options{}); err == nil {
			t.Errorf("Build(%v) succeeded", seqs)
		}
	}
	if _, err := bundle.Build(ctx, l, []uint64{9}, bundle.Options{Size: 9}); err == nil {
		t.Errorf("Build of an entry beyond the checkpoint succeeded")
	}
	if _, err := bundle.Build(ctx, l, []uint64{3}, bundle.Options{Size: 5}); err == nil {
		t.Errorf("Build at a size that is not the end of a batch succeeded")
	}
	b, err := bundle.Build(ctx, l, []uint64{0, 8}, bundle.Options{Size: 9})
	if err != nil {
		t.Fatal(err)
	}
	if res := b.Verify(vectorKey(t)); !res.Valid || res.Checkpoint.Size != 9 {
		t.Errorf("bundle at size 9: %+v", res)
	}
}

func TestWriteFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "b")
	if err := bundle.WriteFile(p, []byte("one"), false); err != nil {
		t.Fatal(err)
	}
	if err := bundle.WriteFile(p, []byte("two"), false); err == nil {
		t.Error("WriteFile overwrote a file")
	}
	if err := bundle.WriteFile(p, []byte("three"), true); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "three" {
		t.Errorf("got %q", b)
	}
	if ents, _ := os.ReadDir(filepath.Dir(p)); len(ents) != 1 {
		t.Errorf("temporary files left: %v", ents)
	}
}
