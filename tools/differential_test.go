package tools_test

// The differential test: the Go verifier and tools/verify.py on logs
// mutated at random, as someone who can write the files would, or as the
// fuzzer likes; any difference in their reports is a failure. Each run has
// a deadline, so a hang is a failure too.

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/internal/speclog"
	"github.com/sealog/sealog/layout"
)

var (
	differentialN    = flag.Int("differential.n", 120, "logs TestDifferential mutates (-short: a fifth)")
	differentialFrom = flag.Int("differential.from", 0, "the first seed TestDifferential uses")
	differentialKeep = flag.String("differential.keep", "", "a directory to copy each mutated log to, for a closer look")
)

// TestDifferential mutates logs with deterministic seeds.
func TestDifferential(t *testing.T) {
	need(t, "python3", "openssl", "zstd")
	n := *differentialN
	if testing.Short() {
		n /= 5
	}
	for i := range n {
		seed := uint64(*differentialFrom + i)
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 0x5ea10c))
			dir, o := mutatedLog(t, r)
			if *differentialKeep != "" {
				keep := filepath.Join(*differentialKeep, fmt.Sprint(seed))
				os.RemoveAll(keep)
				os.CopyFS(keep, os.DirFS(dir))
				t.Logf("kept in %s; options %+v", keep, o)
			}
			both(t, dir, o)
		})
	}
}

// FuzzDifferential is TestDifferential driven by the fuzzer: its input
// chooses the log and the mutations. go test ./tools -run '^$' -fuzz FuzzDifferential
func FuzzDifferential(f *testing.F) {
	for i := range 8 {
		f.Add(uint64(i), []byte{byte(i)})
	}
	f.Fuzz(func(t *testing.T, seed uint64, extra []byte) {
		if _, err := os.Stat("verify.py"); err != nil {
			t.Skip(err)
		}
		var s2 uint64
		for _, b := range extra {
			s2 = s2*131 + uint64(b)
		}
		dir, o := mutatedLog(t, rand.New(rand.NewPCG(seed, s2)))
		both(t, dir, o)
	})
}

// mutatedLog writes a spec log of random shape and applies one to three
// random mutations to its files.
func mutatedLog(t *testing.T, r *rand.Rand) (string, opts) {
	t.Helper()
	l := speclog.New(fmt.Sprint(r.Uint64()), "diff.example/audit")
	for i := range 2 + r.IntN(5) {
		l.Append(1 + r.IntN(4))
		if r.IntN(5) == 0 {
			l.Rotate(fmt.Sprint("rotation ", i)) // docs/FORMAT.md section 5a
		}
	}
	if r.IntN(3) == 0 {
		l.Erase(uint64(r.IntN(int(l.Size()))), "reason")
	}
	if r.IntN(4) == 0 {
		l.AppendUnsigned(speclog.Event(l.Size()))
	}
	dir := filepath.Join(t.TempDir(), "log")
	if err := l.Write(dir, speclog.WriteOptions{SegmentEntries: 1 + r.IntN(6), Compress: r.IntN(4) == 0}); err != nil {
		t.Fatal(err)
	}
	o := opts{key: l.VKeys[r.IntN(len(l.VKeys))]} // any key of the chain will do
	switch r.IntN(7) {
	case 0:
		o.key = ""
	case 6:
		o.key, o.keys = "", l.VKeys
	case 1:
		o.cps = [][]byte{l.Notes[l.Ends[r.IntN(len(l.Ends))]]}
	case 2:
		o.all = true
	}
	for range 1 + r.IntN(3) {
		mutate(t, r, l, dir)
	}
	return dir, o
}

// plainFiles lists the plain segment files of dir, and the checkpoint and
// metadata files.
func plainFiles(t *testing.T, dir string) []string {
	t.Helper()
	ps, _ := filepath.Glob(filepath.Join(dir, layout.SegmentsDir, "*.jsonl"))
	sort.Strings(ps)
	return ps
}

// mutate changes the log's files once, at random.
func mutate(t *testing.T, r *rand.Rand, l *speclog.Log, dir string) {
	t.Helper()
	segs := plainFiles(t, dir)
	pick := func(ps []string) string { return ps[r.IntN(len(ps))] }
	edit := func(p string, f func(b []byte) []byte) {
		b, err := os.ReadFile(p)
		if err != nil {
			return
		}
		os.WriteFile(p, f(b), 0o644)
	}
	lines := func(b []byte) [][]byte { return bytes.SplitAfter(b, []byte("\n")) }
	if len(segs) == 0 {
		return // every plain segment gone already
	}
	seg := pick(segs)
	switch r.IntN(16) {
	case 0: // a byte changed
		edit(seg, func(b []byte) []byte {
			if len(b) > 0 {
				const set = "0123456789abcdef\"{},:\n\x00 A="
				b[r.IntN(len(b))] = set[r.IntN(len(set))]
			}
			return b
		})
	case 1: // a line deleted
		edit(seg, func(b []byte) []byte {
			ls := lines(b)
			i := r.IntN(len(ls))
			return bytes.Join(append(ls[:i:i], ls[i+1:]...), nil)
		})
	case 2: // a line duplicated
		edit(seg, func(b []byte) []byte {
			ls := lines(b)
			i := r.IntN(len(ls))
			return bytes.Join(append(ls[:i+1:i+1], ls[i:]...), nil)
		})
	case 3: // two lines swapped
		edit(seg, func(b []byte) []byte {
			ls := lines(b)
			i, j := r.IntN(len(ls)), r.IntN(len(ls))
			ls[i], ls[j] = ls[j], ls[i]
			return bytes.Join(ls, nil)
		})
	case 4: // cut short
		edit(seg, func(b []byte) []byte { return b[:r.IntN(len(b)+1)] })
	case 5: // padding, or junk after it
		edit(seg, func(b []byte) []byte {
			b = append(b, make([]byte, r.IntN(100))...)
			if r.IntN(2) == 0 {
				b = append(b, 'x')
			}
			return b
		})
	case 6: // an entry erased without a record
		seq := uint64(r.IntN(int(l.Size())))
		if ln, err := format.ParseLine(bytes.TrimSuffix(l.Lines[seq], []byte("\n"))); err == nil && !ln.Erased {
			e := format.Line{Seq: ln.Seq, Time: ln.Time, Prev: ln.Prev, Erased: true, BodyHash: l.BodyHash(seq), Sig: ln.Sig}
			for _, p := range segs {
				edit(p, func(b []byte) []byte { return bytes.Replace(b, l.Lines[seq], format.AppendLine(nil, &e), 1) })
			}
		}
	case 7: // a signature member dropped, or moved
		edit(seg, func(b []byte) []byte {
			i := bytes.Index(b, []byte(`,"sig":"`))
			if i < 0 {
				return b
			}
			j := bytes.IndexByte(b[i+8:], '"') + i + 9
			sig := bytes.Clone(b[i:j])
			b = append(b[:i:i], b[j:]...)
			if r.IntN(2) == 0 {
				if k := bytes.Index(b, []byte("}}\n")); k >= 0 {
					b = append(b[:k+1:k+1], append(sig, b[k+1:]...)...)
				}
			}
			return b
		})
	case 8: // a segment removed or renamed
		if r.IntN(2) == 0 {
			os.Remove(seg)
		} else {
			first, _, _ := layout.ParseSegmentName(filepath.Base(seg))
			os.Rename(seg, filepath.Join(filepath.Dir(seg), layout.SegmentName(first+uint64(r.IntN(3))-1, false)))
		}
	case 9: // the checkpoint file replaced by an older one, or removed, or edited
		p := filepath.Join(dir, layout.CheckpointFile)
		switch r.IntN(3) {
		case 0:
			os.WriteFile(p, l.Notes[l.Ends[r.IntN(len(l.Ends))]], 0o644)
		case 1:
			os.Remove(p)
		default:
			edit(p, func(b []byte) []byte {
				if len(b) > 0 {
					b[r.IntN(len(b))] ^= byte(1 << r.IntN(8))
				}
				return b
			})
		}
	case 10: // the tail cut with the checkpoint file rolled back
		last := segs[len(segs)-1]
		edit(last, func(b []byte) []byte {
			ls := lines(b)
			return bytes.Join(ls[:r.IntN(len(ls)+1)], nil)
		})
		os.WriteFile(filepath.Join(dir, layout.CheckpointFile), l.Notes[l.Ends[r.IntN(len(l.Ends))]], 0o644)
	case 11: // sealog.json edited
		edit(filepath.Join(dir, layout.MetadataFile), func(b []byte) []byte {
			if len(b) > 0 {
				const set = "\"{}:,aZ \\"
				b[r.IntN(len(b))] = set[r.IntN(len(set))]
			}
			return b
		})
	case 12: // a digit of a seq, time or prev changed
		edit(seg, func(b []byte) []byte {
			var idx []int
			for i, c := range b {
				if c >= '0' && c <= '9' {
					idx = append(idx, i)
				}
			}
			if len(idx) > 0 {
				b[idx[r.IntN(len(idx))]] = byte('0' + r.IntN(10))
			}
			return b
		})
	case 13: // a compressed segment replaced by garbage
		if zs, _ := filepath.Glob(filepath.Join(dir, layout.SegmentsDir, "*.zst")); len(zs) > 0 {
			os.WriteFile(pick(zs), []byte("not zstd"), 0o644)
		}
	case 14: // a line from elsewhere in the log inserted
		edit(seg, func(b []byte) []byte {
			ls := lines(b)
			i := r.IntN(len(ls))
			return bytes.Join(append(ls[:i:i], append([][]byte{l.Lines[r.IntN(len(l.Lines))]}, ls[i:]...)...), nil)
		})
	case 15: // an erasure record forged in an unsigned line
		seq := uint64(r.IntN(int(l.Size())))
		ev := format.AppendErasureEvent(nil, seq, l.BodyHash(seq), "", "forged")
		f := *l
		f.Lines, f.Leaves, f.Notes, f.Ends = append([][]byte(nil), l.Lines...), append(l.Leaves[:0:0], l.Leaves...), map[uint64][]byte{}, nil
		f.AppendUnsigned(ev)
		last := segs[len(segs)-1]
		edit(last, func(b []byte) []byte { return append(b, f.Lines[len(f.Lines)-1]...) })
	}
}
