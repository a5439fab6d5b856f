package verify_test

import (
	"bytes"
	"context"
	"fmt"
	"github.com/sealog/sealog/store/file"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/layout"
)

// testLog writes a log of n entries, committed in batches of batch
// entries, in small segments, and returns its directory and keys.
type testLog struct {
	dir  string
	key  *sealog.Key
	vkey string
	// checkpoints[i] is the signed checkpoint after batch i.
	checkpoints [][]byte
}

func newTestLog(t *testing.T, n, batch int) *testLog {
	t.Helper()
	skey, vkey, err := sealog.GenerateKey("test.example/audit")
	if err != nil {
		t.Fatal(err)
	}
	k, _ := sealog.ParseKey(skey)
	tl := &testLog{dir: filepath.Join(t.TempDir(), "log"), key: k, vkey: vkey}
	l, err := sealog.Open(tl.dir, sealog.Options{Key: k, File: file.Options{SegmentSize: 4096}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := 0; i < n; i += batch {
		var evs []sealog.Event
		for j := i; j < i+batch && j < n; j++ {
			evs = append(evs, sealog.Event{Kind: "doc.read", Actor: fmt.Sprintf("user%d@example.com", j%5), Resource: fmt.Sprintf("doc/%d", j),
				Payload: map[string]any{"n": j, "ip": "203.0.113.7"}})
		}
		rs, err := l.AppendBatch(ctx, evs)
		if err != nil {
			t.Fatal(err)
		}
		tl.checkpoints = append(tl.checkpoints, []byte(rs[0].Checkpoint))
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return tl
}

// segFile is a segment's path and lines (newline-terminated).
type segFile struct {
	path  string
	lines [][]byte
}

func readSegs(t *testing.T, dir string) []segFile {
	t.Helper()
	segs, _, err := layout.Segments(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []segFile
	for _, s := range segs {
		b, err := os.ReadFile(s.Path)
		if err != nil {
			t.Fatal(err)
		}
		sf := segFile{path: s.Path}
		for len(b) > 0 {
			i := bytes.IndexByte(b, '\n')
			sf.lines = append(sf.lines, append([]byte(nil), b[:i+1]...))
			b = b[i+1:]
		}
		out = append(out, sf)
	}
	return out
}

func writeSegs(t *testing.T, segs []segFile) {
	t.Helper()
	for _, s := range segs {
		if err := os.WriteFile(s.path, bytes.Join(s.lines, nil), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// locate returns the segment and line index holding entry seq.
func locate(t *testing.T, segs []segFile, seq int) (int, int) {
	t.Helper()
	want := []byte(fmt.Sprintf(`{"seq":%d,`, seq))
	for i, s := range segs {
		for j, l := range s.lines {
			if bytes.HasPrefix(l, want) {
				return i, j
			}
		}
	}
	t.Fatalf("entry %d not found", seq)
	return 0, 0
}

// editLine replaces the first occurrence of from with to in entry seq's line.
func editLine(t *testing.T, dir string, seq int, from, to string) {
	t.Helper()
	segs := readSegs(t, dir)
	i, j := locate(t, segs, seq)
	l := segs[i].lines[j]
	if !bytes.Contains(l, []byte(from)) {
		t.Fatalf("entry %d: %q not in %s", seq, from, l)
	}
	segs[i].lines[j] = bytes.Replace(l, []byte(from), []byte(to), 1)
	writeSegs(t, segs)
}

func segmentNames(t *testing.T, dir string) []string {
	ents, err := os.ReadDir(filepath.Join(dir, layout.SegmentsDir))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}
