package tools_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/tree"
)

const prunedRotated = "../testdata/vectors/pruned-rotated"

// TestPyPrunedRotated: verify.py follows the chain of keys that a prune
// kept (docs/FORMAT.md §13.2, the pruned rotated vector of §13.4) and
// agrees with the Go verifier on it and on each tampering of the kept
// chain, verdict and first invalid seq included.
func TestPyPrunedRotated(t *testing.T) {
	vk := strings.Fields(string(must(os.ReadFile(filepath.Join(prunedRotated, "keys")))))
	if len(vk) != 3 {
		t.Fatalf("%d keys", len(vk))
	}
	good := must(layout.ReadPruned(filepath.Join(prunedRotated, "log")))
	if good.Below != 38 || len(good.Rotations) != 2 {
		t.Fatalf("the vector's pruned.json: below %d, %d rotations", good.Below, len(good.Rotations))
	}
	_, evil := testkit.Keys("evil", "example.com/pruned")
	edit := func(f func(p *layout.Pruned)) func(t *testing.T, d string) {
		return func(t *testing.T, d string) {
			p := must(layout.ParsePruned(good.Marshal()))
			f(p)
			if err := os.WriteFile(filepath.Join(d, layout.PrunedFile), p.Marshal(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	first, all := opts{key: vk[0]}, opts{key: vk[0], keys: vk[1:]}
	for _, tc := range []struct {
		name    string
		tamper  func(t *testing.T, d string)
		o       opts
		verdict string
		first   *uint64
	}{
		{"intact, the first key", nil, first, valid, nil},
		{"intact, the middle key", nil, opts{key: vk[1]}, valid, nil},
		{"intact, the last key", nil, opts{key: vk[2]}, valid, nil},
		{"intact, every key", nil, all, valid, nil},
		{"intact, every signature", nil, opts{key: vk[0], all: true}, valid, nil},
		{"the second rotation dropped", edit(func(p *layout.Pruned) { p.Rotations = p.Rotations[:1] }), first, tampered, u(38)},
		{"the second rotation dropped, every key", edit(func(p *layout.Pruned) { p.Rotations = p.Rotations[:1] }), all, tampered, u(38)},
		{"the first rotation dropped", edit(func(p *layout.Pruned) { p.Rotations = p.Rotations[1:] }), first, wrongKey, nil},
		{"the first rotation dropped, every key", edit(func(p *layout.Pruned) { p.Rotations = p.Rotations[1:] }), all, tampered, u(38)},
		{"both dropped, every key", edit(func(p *layout.Pruned) { p.Rotations = nil }), all, tampered, u(38)},
		{"a kept key replaced", edit(func(p *layout.Pruned) {
			p.Rotations[1].Line = []byte(strings.Replace(string(p.Rotations[1].Line), vk[2], evil, 1))
		}), first, tampered, u(33)},
		{"a kept edge changed", edit(func(p *layout.Pruned) { p.Rotations[0].Edge[0][3] ^= 1 }), first, tampered, u(16)},
		{"a kept proof changed", edit(func(p *layout.Pruned) { p.Rotations[1].Proof[0][3] ^= 1 }), all, tampered, u(33)},
		{"a kept signature changed", edit(func(p *layout.Pruned) {
			ln := p.Rotations[0].Line
			i := strings.LastIndex(string(ln), `"sig":"`) + len(`"sig":"`) + 12
			ln[i] ^= 'A' ^ 'B'
		}), first, tampered, u(16)},
		{"the rotations swapped", edit(func(p *layout.Pruned) { p.Rotations[0], p.Rotations[1] = p.Rotations[1], p.Rotations[0] }), first, tampered, u(0)}, // malformed: read as never pruned (§13.3 step 1)
		{"widened", func(t *testing.T, d string) { widenRotated(t, d, 42) }, first, tampered, u(38)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := filepath.Join(t.TempDir(), "copy")
			if err := os.CopyFS(d, os.DirFS(filepath.Join(prunedRotated, "log"))); err != nil {
				t.Fatal(err)
			}
			if tc.tamper != nil {
				tc.tamper(t, d)
			}
			runAgree(t, []agreeCase{{tc.name, func(*testing.T) (string, opts) { return d, tc.o }, tc.verdict, tc.first}})
		})
	}
}

// widenRotated deletes the segments below first and writes the
// pruned.json a prune there would have written, kept rotations and their
// proofs included: what an attacker with the log's files can do.
func widenRotated(t *testing.T, d string, first uint64) {
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
	hr := store.HashReader(ctx, l.Store())
	edge := must(tree.Load(first, hr))
	p := must(layout.ReadPruned(d))
	for i := range p.Rotations {
		p.Rotations[i].Proof = must(tlog.ProveTree(int64(first), int64(keptSeq(t, p.Rotations[i].Line)+1), hr))
	}
	l.Close()
	p.Below, p.Leaf, p.Time, p.Edge = first, e.LeafHash, e.Time.UnixNano(), edge.Hashes()
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

func keptSeq(t *testing.T, line []byte) uint64 {
	t.Helper()
	ln, err := format.ParseLine(line)
	if err != nil {
		t.Fatal(err)
	}
	return ln.Seq
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
