package tstoken_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/tstoken"
	"github.com/sealog/sealog/verify"
)

const vecDir = "../testdata/vectors/timestamps"

// TestVectors checks the timestamp vectors (docs/FORMAT.md §12.4): the
// log verifies with its TSA root, each timestamp says what expected.json
// says, and openssl's own verifier accepts each token for the checkpoint
// text the log's tree gives.
func TestVectors(t *testing.T) {
	vkey, err := os.ReadFile(filepath.Join(vecDir, "log.pub"))
	if err != nil {
		t.Fatal(err)
	}
	pemRoot, _ := os.ReadFile(filepath.Join(vecDir, "tsa-root.pem"))
	roots, err := tstoken.ParseRoots(pemRoot)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := verify.Verify(context.Background(), verify.Dir(filepath.Join(vecDir, "log")), verify.Options{Key: strings.TrimSpace(string(vkey)), Timestamps: tstoken.Checker{Roots: roots}})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Valid {
		t.Fatalf("the vector log: %s %+v", rep.Verdict, rep.Problems)
	}
	got, _ := json.MarshalIndent(rep.Timestamps, "", "  ")
	want, _ := os.ReadFile(filepath.Join(vecDir, "expected.json"))
	if !bytes.Equal(append(got, '\n'), want) {
		t.Fatalf("timestamps:\n%s\nwant (expected.json):\n%s", got, want)
	}
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatalf("openssl is needed for this test: %v", err)
	}
	for _, ts := range rep.Timestamps {
		// The message: the checkpoint text, from the log's checkpoint of
		// that size (the last line of the batch carries its signature).
		root := treeRoot(t, ts.Size)
		msg := checkpoint.Checkpoint{Origin: rep.Origin, Size: ts.Size, Root: root}.Text()
		tmp := t.TempDir()
		os.WriteFile(filepath.Join(tmp, "msg"), msg, 0o644)
		tsr := filepath.Join(vecDir, "log", layout.TimestampsDir, layout.TimestampName(ts.Size))
		out, err := exec.Command("openssl", "ts", "-verify", "-in", tsr, "-data", filepath.Join(tmp, "msg"), "-CAfile", filepath.Join(vecDir, "tsa-root.pem")).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Verification: OK") {
			t.Errorf("openssl ts -verify of the token at size %d: %v\n%s", ts.Size, err, out)
		}
		b, _ := os.ReadFile(tsr)
		if _, err := tstoken.Verify(b, msg, roots); err != nil {
			t.Errorf("size %d: %v", ts.Size, err)
		}
	}
}

// treeRoot returns the root of the vector log's tree of the given size,
// from the signed checkpoint that ends the batch there.
func treeRoot(t *testing.T, size uint64) [32]byte {
	t.Helper()
	segs, _, err := layout.Segments(filepath.Join(vecDir, "log"))
	if err != nil || len(segs) != 1 {
		t.Fatalf("segments: %v %v", segs, err)
	}
	// The verifier, run over a copy of the first size entries, reports
	// the root of their batch's signed checkpoint.
	b, err := os.ReadFile(segs[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(b, []byte("\n"))
	d := t.TempDir()
	os.MkdirAll(filepath.Join(d, layout.SegmentsDir), 0o755)
	meta, _ := os.ReadFile(filepath.Join(vecDir, "log", layout.MetadataFile))
	os.WriteFile(filepath.Join(d, layout.MetadataFile), meta, 0o644)
	os.WriteFile(filepath.Join(d, layout.SegmentsDir, layout.SegmentName(0, false)), bytes.Join(lines[:size], nil), 0o644)
	rep, err := verify.Verify(context.Background(), verify.Dir(d), verify.Options{})
	if err != nil || rep.Checkpoint == nil || rep.Checkpoint.Size != size {
		t.Fatalf("the log's first %d entries: %v %+v", size, err, rep)
	}
	return rep.Checkpoint.Root
}

// FuzzParse feeds arbitrary bytes to the parser of stored timestamps,
// seeded with the vectors' tokens: it must never panic, and must accept
// nothing for a message other than its own.
func FuzzParse(f *testing.F) {
	ts, _, _ := layout.Timestamps(filepath.Join(vecDir, "log"))
	for _, t := range ts {
		b, _ := os.ReadFile(t.Path)
		f.Add(b)
	}
	f.Add([]byte{0x30, 0x03, 0x30, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		if st, err := tstoken.Parse(b, []byte("a message no vector token covers")); err == nil {
			t.Fatalf("accepted %x: %+v", b, st)
		}
	})
}
