package verify_test

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/sealog/sealog/internal/speclog"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/verify"
)

// TestSegmentReplacedAfterListing: a live writer compresses a sealed
// segment (and removes its plain file) between the verifier's listing of
// the segments and its opening of that one, or an erasure turns a
// compressed segment back into a plain file. The verifier reads the other
// copy; it used to fail with "no such file or directory" (issue 9, item 4).
func TestSegmentReplacedAfterListing(t *testing.T) {
	l := specLog(4, 4, 4)
	dir := filepath.Join(t.TempDir(), "log")
	if err := l.Write(dir, speclog.WriteOptions{SegmentEntries: 4, Compress: true}); err != nil {
		t.Fatal(err)
	}
	sd := filepath.Join(dir, layout.SegmentsDir)
	z := filepath.Join(sd, layout.SegmentName(4, true))
	plain := filepath.Join(sd, layout.SegmentName(4, false))
	zb, err := os.ReadFile(z)
	if err != nil {
		t.Fatal(err)
	}
	d, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	pb, err := d.DecodeAll(zb, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name             string
		listed, replaced string // the copy listed, and the one it is replaced by
		data             []byte
	}{
		{"compressed since listed", plain, z, pb},
		{"made plain since listed", z, plain, zb},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(plain)
			os.Remove(z)
			want := pb
			if err := os.WriteFile(tc.listed, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			segs, err := verify.Dir(dir).Segments()
			if err != nil {
				t.Fatal(err)
			}
			var sg *verify.Segment
			for i := range segs {
				if segs[i].First == 4 {
					sg = &segs[i]
				}
			}
			if sg == nil || sg.Name != filepath.Base(tc.listed) {
				t.Fatalf("listed %+v, want %s", segs, filepath.Base(tc.listed))
			}
			// The writer replaces the segment by its other form.
			other := zb
			if tc.replaced == plain {
				other = pb
			}
			if err := os.WriteFile(tc.replaced, other, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Remove(tc.listed); err != nil {
				t.Fatal(err)
			}
			rc, err := sg.Open()
			if err != nil {
				t.Fatalf("opening %s after it was replaced by %s: %v", sg.Name, filepath.Base(tc.replaced), err)
			}
			got, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || string(got) != string(want) {
				t.Fatalf("read %d bytes (%v), want the segment's %d", len(got), err, len(want))
			}
			rep := run(t, dir, verify.Options{Key: l.VKey})
			if !rep.Valid {
				t.Fatalf("after the replacement: %s", dump(rep))
			}
		})
	}
}
