package verify

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"golang.org/x/mod/sumdb/note"

	"github.com/sealog/sealog/layout"
)

// vectorSegment returns the test-vector log's entries as one segment, and
// its key.
func vectorSegment(t testing.TB) ([]byte, string) {
	dir := filepath.Join("..", "testdata", "vectors", "log")
	segs, _, err := layout.Segments(dir)
	if err != nil {
		t.Fatal(err)
	}
	var seg []byte
	for _, s := range segs {
		b, err := os.ReadFile(s.Path)
		if err != nil {
			t.Fatal(err)
		}
		if s.Compressed {
			d, _ := zstd.NewReader(nil)
			if b, err = d.DecodeAll(b, nil); err != nil {
				t.Fatal(err)
			}
			d.Close()
		}
		seg = append(seg, b...)
	}
	pub, _ := os.ReadFile(filepath.Join(dir, "..", "log.pub"))
	return seg, strings.TrimSpace(string(pub))
}

// Fuzzing instruments crypto code too, which makes one Ed25519
// verification take seconds, and the fuzzing engine runs slowly around
// goroutines; so the fuzz target drives the verifier's per-line analysis
// and its checker directly, in one goroutine, on a segment without batch
// signatures. (The tamper and crash tests cover signatures and the
// concurrent pipeline.)
var sigMember = regexp.MustCompile(`,"sig":"[A-Za-z0-9+/=]*"`)

// FuzzCheck feeds arbitrary segment bytes to the verifier's line analysis
// and checks: they must never panic or hang, and the report must be
// consistent with itself.
func FuzzCheck(f *testing.F) {
	seg, key := vectorSegment(f)
	seg = sigMember.ReplaceAll(seg, nil)
	f.Add(seg)
	f.Add(seg[:len(seg)/2])
	f.Add(append(append([]byte(nil), seg...), 0, 0, 0))
	v, err := note.NewVerifier(key)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rep := &Report{Problems: []Problem{}, Gaps: []Gap{}, Warnings: []string{}}
		segs := []Segment{{Name: layout.SegmentName(0, false)}}
		book := newSigBook([]candidate{{key, v}}, "vectors.example/audit", 50)
		vr := &verification{ctx: context.Background(), opts: Options{MaxProblems: 50, MaxErased: 8}, rep: rep, v: v, origin: "vectors.example/audit"}
		vr.ch = newChecker(rep, segs, 50, []uint64{5, 23}, book, 8)
		c := vr.ch
		end := &chunk{end: true}
		lines := data
		if z := bytes.IndexByte(lines, 0); z >= 0 {
			lines = lines[:z] // what the reader does with padding, roughly
		}
		n := 1
		for len(lines) > 0 {
			i := bytes.IndexByte(lines, '\n')
			if i < 0 {
				end.torn = lines
				break
			}
			r := analyze(lines[:i])
			c.line(&r, place{seg: segs[0].Name, line: n})
			lines = lines[i+1:]
			n++
		}
		c.segmentEnd(end, true)
		c.finish()
		vr.sr = defaultSigs(book)
		vr.conclude()
		if rep.Valid && (rep.FirstInvalid != nil || rep.Tampered > 0 || len(rep.Gaps) > 0 || !rep.ChainIntact || rep.Verdict != VerdictValid) {
			t.Fatalf("valid report with problems: %+v", rep)
		}
		if !rep.Valid && rep.Verdict == VerdictValid {
			t.Fatalf("invalid report with the verdict valid: %+v", rep)
		}
		if rep.Authenticated > rep.Entries {
			t.Fatalf("authenticated %d > entries %d", rep.Authenticated, rep.Entries)
		}
		if rep.FirstInvalid != nil && rep.FirstProblem == nil {
			t.Fatal("first invalid without a problem")
		}
		if rep.Tampered != rep.Changed+rep.Missing+rep.Inserted+rep.Reordered || rep.Missing > 1<<62 {
			t.Fatalf("counters do not add up: %+v", rep)
		}
	})
}
