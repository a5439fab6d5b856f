//go:build unix

package file_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/store/file"
	"github.com/sealog/sealog/verify"
)

// buildLog writes a closed log of n entries in batches of batch, in
// segments of segSize bytes, and returns its directory.
func buildLog(t *testing.T, n, batch int, segSize int64, compress bool) string {
	t.Helper()
	if compress {
		defer file.SetPlainGrace(0)()
	}
	k, _ := testKey(t)
	dir := filepath.Join(t.TempDir(), "log")
	l, err := sealog.Open(dir, sealog.Options{Key: k, Logger: testkit.Logger(t), File: file.Options{SegmentSize: segSize, Compress: compress}})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, l, n, batch)
	if compress {
		testkit.Eventually(t, time.Minute, "sealed segments compressed", func() bool {
			segs, dups, _ := layout.Segments(dir)
			for _, sg := range segs[:len(segs)-1] {
				if !sg.Compressed {
					return false
				}
			}
			return len(dups) == 0
		})
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func openLog(t testing.TB, dir string, lg *slog.Logger, segSize int64) (*sealog.Log, error) {
	k, _ := testKey(t)
	if lg == nil {
		lg = testkit.Logger(t)
	}
	return sealog.Open(dir, sealog.Options{Key: k, Logger: lg, File: file.Options{SegmentSize: segSize}})
}

// lineOffset returns the offset of entry seq's line in the plain segment
// at path.
func lineOffset(t testing.TB, path string, seq uint64) int {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, fmt.Appendf(nil, `{"seq":%d,`, seq))
	if i < 0 {
		t.Fatalf("entry %d is not in %s", seq, path)
	}
	return i
}

// poke overwrites the bytes at off in the file at path.
func poke(t testing.TB, path string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// Issue 9, defect 2: one NUL byte written into an acknowledged line (seq
// 450 of 900, in the active segment) made recovery move entries 300–899
// to torn/, calling them never acknowledged, and then either refuse with
// ErrTruncated (checkpoint file present) or reopen with 600 acknowledged
// entries gone (checkpoint file absent). Damage to acknowledged entries is
// corruption: Open must refuse with ErrCorrupt, change nothing, and leave
// the verifier to name entry 450.
func TestNULInAcknowledgedLine(t *testing.T) {
	for _, withCheckpoint := range []bool{true, false} {
		t.Run(fmt.Sprintf("checkpoint file %v", withCheckpoint), func(t *testing.T) {
			k, _ := testKey(t)
			dir := buildLog(t, 900, 3, 1<<20, false)
			segs, _, _ := layout.Segments(dir)
			if len(segs) != 1 {
				t.Fatalf("%d segments, want the 900 entries in one", len(segs))
			}
			poke(t, segs[0].Path, int64(lineOffset(t, segs[0].Path, 450)+40), []byte{0})
			if !withCheckpoint {
				os.Remove(filepath.Join(dir, layout.CheckpointFile))
			}
			before := snapshot(t, dir)
			logs, lg := newCapture(t)
			l, err := openLog(t, dir, lg, 1<<20)
			if err == nil {
				h, _ := l.Head(context.Background())
				l.Close()
				t.Fatalf("Open accepted the log with %d entries: acknowledged entries were cut", h.Size)
			}
			if !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("Open: %v, want ErrCorrupt", err)
			}
			if !strings.Contains(err.Error(), "450") {
				t.Errorf("the error does not name entry 450: %v", err)
			}
			for _, bad := range []string{"never acknowledged", "longer than"} {
				if strings.Contains(err.Error()+logs.String(), bad) {
					t.Errorf("recovery says %q of acknowledged, damaged entries:\n%v\n%s", bad, err, logs)
				}
			}
			if after := snapshot(t, dir); after != before {
				t.Fatalf("the refused open changed the log:\nbefore:\n%s\nafter:\n%s", before, after)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			rep, err := verify.Verify(ctx, verify.Dir(dir), verify.Options{Key: k.VerifierKey()})
			if err != nil || rep.Valid || rep.FirstInvalid == nil || *rep.FirstInvalid != 450 {
				t.Fatalf("verify does not name entry 450: %v %+v", err, rep)
			}
		})
	}
}

// Issue 9, defect 3: a write-open that failed (here, for each reason Open
// has to refuse a log) had already emptied the index and hashes files, so
// that every read-only command then failed with "derived files short". A
// refused open changes nothing on disk, and read-only opens still work.
func TestRefusedOpenChangesNothing(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, dir string)
		err    error
	}{
		{"forged signature in the active segment", func(t *testing.T, dir string) {
			p := lastSegment(t, dir)
			b, _ := os.ReadFile(p)
			i := bytes.LastIndex(b, []byte(`,"sig":"`)) + 20
			poke(t, p, int64(i), []byte{'A' + (b[i]-'A'+1)%26})
		}, store.ErrCorrupt},
		{"damaged line before a signature", func(t *testing.T, dir string) {
			p := lastSegment(t, dir)
			b, _ := os.ReadFile(p)
			poke(t, p, int64(bytes.Index(b, []byte(`"i":`))+4), []byte{'x'})
		}, store.ErrCorrupt},
		{"NUL in an acknowledged line", func(t *testing.T, dir string) {
			p := lastSegment(t, dir)
			poke(t, p, 30, []byte{0})
		}, store.ErrCorrupt},
		{"entries removed below the checkpoint", func(t *testing.T, dir string) {
			p := lastSegment(t, dir)
			b, _ := os.ReadFile(p)
			lines := bytes.SplitAfter(b, []byte("\n"))
			os.WriteFile(p, bytes.Join(lines[:len(lines)-6], nil), 0o644)
		}, store.ErrTruncated},
		{"damaged sealed segment", func(t *testing.T, dir string) {
			segs, _, _ := layout.Segments(dir)
			b, _ := os.ReadFile(segs[0].Path)
			os.WriteFile(segs[0].Path, b[:len(b)-10], 0o644)
		}, store.ErrCorrupt},
		{"damaged sealed segment, derived files to rebuild", func(t *testing.T, dir string) {
			segs, _, _ := layout.Segments(dir)
			b, _ := os.ReadFile(segs[0].Path)
			os.WriteFile(segs[0].Path, b[:len(b)-10], 0o644)
			os.Truncate(filepath.Join(dir, layout.IndexFile), 16)
		}, store.ErrCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := buildLog(t, 60, 5, 2048, false)
			tc.damage(t, dir)
			before := snapshot(t, dir)
			l, err := openLog(t, dir, nil, 2048)
			if err == nil {
				l.Close()
				t.Fatal("Open accepted the damaged log")
			}
			if !errors.Is(err, tc.err) {
				t.Fatalf("Open: %v, want %v", err, tc.err)
			}
			if after := snapshot(t, dir); after != before {
				t.Fatalf("the refused open changed the log:\nbefore:\n%s\nafter:\n%s", before, after)
			}
			if !strings.Contains(tc.name, "rebuild") {
				r, err := sealog.Open(dir, sealog.Options{ReadOnly: true})
				if err != nil {
					t.Fatalf("a read-only open after the refused one: %v", err)
				}
				r.Close()
			}
		})
	}

	// The case of the issue: a segment the user may not write.
	t.Run("active segment not writable", func(t *testing.T) {
		requireRoot(t, "to run the writer as a user that may not write the segment")
		_, skey := testKey(t)
		dir := filepath.Join(publicDir(t), "log")
		src := buildLog(t, 60, 5, 2048, false)
		if out, err := exec.Command("cp", "-a", src, dir).CombinedOutput(); err != nil {
			t.Fatalf("cp: %v %s", err, out)
		}
		if out, err := exec.Command("chown", "-R", "65534:65534", dir).CombinedOutput(); err != nil {
			t.Fatalf("chown: %v %s", err, out)
		}
		if err := os.Chmod(lastSegment(t, dir), 0o444); err != nil {
			t.Fatal(err)
		}
		before := snapshot(t, dir)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := testkit.Child(ctx, t, "openrw", dir+"|"+skey)
		asNobody(t, cmd)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), "refused:") {
			t.Fatalf("the writer as nobody: %v\n%s", err, out)
		}
		t.Logf("%s", out)
		if after := snapshot(t, dir); after != before {
			t.Fatalf("the refused open changed the log:\nbefore:\n%s\nafter:\n%s", before, after)
		}
		r, err := sealog.Open(dir, sealog.Options{ReadOnly: true})
		if err != nil {
			t.Fatalf("a read-only open after the refused one: %v", err)
		}
		r.Close()
	})
}

func lastSegment(t testing.TB, dir string) string {
	segs, _, err := layout.Segments(dir)
	if err != nil || len(segs) == 0 {
		t.Fatalf("no segments: %v", err)
	}
	return segs[len(segs)-1].Path
}

// Issue 9, defect 9: Open accepted a damaged sealed segment and appended on
// top; a damaged compressed segment gave a plain "CRC check failed"
// instead of ErrCorrupt. Open checks every sealed segment where it joins
// its neighbours (its first and last entries against the stored hashes,
// its last signature, its end) and refuses damage with ErrCorrupt; the
// verifier names the entry.
func TestSealedSegmentDamage(t *testing.T) {
	for _, tc := range []struct {
		name     string
		compress bool
		damage   func(t *testing.T, segs []layout.Segment)
	}{
		// (A changed signature inside the log is not one the verifier
		// needs by default: a later one covers every entry. Open checks
		// it.)
		{"sealed segment cut short", false, func(t *testing.T, segs []layout.Segment) {
			b, _ := os.ReadFile(segs[1].Path)
			os.WriteFile(segs[1].Path, b[:len(b)-30], 0o644)
		}},
		{"sealed segment with a line added", false, func(t *testing.T, segs []layout.Segment) {
			b, _ := os.ReadFile(segs[1].Path)
			os.WriteFile(segs[1].Path, append(b, []byte("{\"seq\":99}\n")...), 0o644)
		}},
		{"sealed segment's signature changed", false, func(t *testing.T, segs []layout.Segment) {
			b, _ := os.ReadFile(segs[1].Path)
			i := bytes.LastIndex(b, []byte(`,"sig":"`)) + 20
			poke(t, segs[1].Path, int64(i), []byte{'A' + (b[i]-'A'+1)%26})
		}},
		{"sealed segment's first entry changed", false, func(t *testing.T, segs []layout.Segment) {
			b, _ := os.ReadFile(segs[1].Path)
			i := bytes.Index(b, []byte(`"tester"`))
			poke(t, segs[1].Path, int64(i+1), []byte{'T'})
		}},
		{"first segment removed", false, func(t *testing.T, segs []layout.Segment) {
			os.Remove(segs[0].Path)
		}},
		{"last compressed segment damaged", true, func(t *testing.T, segs []layout.Segment) {
			sg := segs[len(segs)-2]
			fi, _ := os.Stat(sg.Path)
			poke(t, sg.Path, fi.Size()/2, []byte("XXXX"))
		}},
		{"first compressed segment damaged", true, func(t *testing.T, segs []layout.Segment) {
			fi, _ := os.Stat(segs[0].Path)
			poke(t, segs[0].Path, fi.Size()/2, []byte("XXXX"))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, _ := testKey(t)
			dir := buildLog(t, 200, 5, 4096, tc.compress)
			segs, _, _ := layout.Segments(dir)
			if len(segs) < 4 || tc.compress && !segs[len(segs)-2].Compressed {
				t.Fatalf("the fixture has %d segments (%+v)", len(segs), segs)
			}
			tc.damage(t, segs)
			before := snapshot(t, dir)
			l, err := openLog(t, dir, nil, 4096)
			if err == nil {
				l.Close()
				t.Fatal("Open accepted a log with a damaged sealed segment")
			}
			if !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("Open: %v, want ErrCorrupt", err)
			}
			if after := snapshot(t, dir); after != before {
				t.Fatalf("the refused open changed the log:\nbefore:\n%s\nafter:\n%s", before, after)
			}
			if strings.Contains(tc.name, "signature") {
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			rep, err := verify.Verify(ctx, verify.Dir(dir), verify.Options{Key: k.VerifierKey()})
			if err != nil || rep.Valid || rep.FirstInvalid == nil {
				t.Fatalf("verify does not name the damaged entry: %v %+v", err, rep)
			}
		})
	}
}

// Issue 9, defect 10: zero padding was reported as "a line longer than
// 4194304 bytes", and entries that were acknowledged were called "never
// acknowledged". Recovery names what it found: padding is padding, and
// "never acknowledged" is said only of what no signature covers.
func TestRecoveryMessages(t *testing.T) {
	t.Run("padding longer than a line", func(t *testing.T) {
		dir := buildLog(t, 60, 5, 1<<20, false)
		f, _ := os.OpenFile(lastSegment(t, dir), os.O_WRONLY|os.O_APPEND, 0)
		f.Write(make([]byte, 12<<20))
		f.Close()
		logs, lg := newCapture(t)
		l, err := openLog(t, dir, lg, 1<<20)
		if err != nil {
			t.Fatalf("Open refused a log with 5 MiB of padding: %v", err)
		}
		l.Close()
		if s := logs.String(); strings.Contains(s, "longer than") || strings.Contains(s, "never acknowledged") {
			t.Fatalf("recovery called padding something else:\n%s", s)
		}
	})
	t.Run("torn unsigned tail", func(t *testing.T) {
		dir := buildLog(t, 60, 5, 1<<20, false)
		p := lastSegment(t, dir)
		b, _ := os.ReadFile(p)
		lines := bytes.SplitAfter(b, []byte("\n"))
		last := lines[len(lines)-2]
		unsigned := bytes.Replace(last, []byte(`"seq":59,`), []byte(`"seq":60,`), 1)
		f, _ := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
		f.Write(unsigned[:len(unsigned)/2])
		f.Close()
		logs, lg := newCapture(t)
		l, err := openLog(t, dir, lg, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		h, _ := l.Head(context.Background())
		l.Close()
		if h.Size != 60 {
			t.Fatalf("%d entries after recovery, want 60", h.Size)
		}
		if s := logs.String(); !strings.Contains(s, "never acknowledged") {
			t.Fatalf("recovery did not say the cut bytes were never acknowledged:\n%s", s)
		}
	})
}

// The temporary files a writer killed in the middle of a durable write
// leaves (a compression, a checkpoint, a journal) are removed when the log
// is next opened for writing; other files are left alone.
func TestLeftoverTemporaryFiles(t *testing.T) {
	dir := buildLog(t, 30, 5, 2048, false)
	left := []string{
		filepath.Join(dir, ".checkpoint.tmp123"),
		filepath.Join(dir, ".erasing.json.tmp77"),
		filepath.Join(dir, layout.SegmentsDir, ".00000000000000000000.jsonl.zst.tmp9"),
	}
	keep := filepath.Join(dir, layout.SegmentsDir, "notes.txt")
	for _, p := range append(left, keep) {
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	l, err := openLog(t, dir, nil, 2048)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	for _, p := range left {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s is still there", p)
		}
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("%s was removed: %v", keep, err)
	}
}

// What a power cut can leave in the batch it interrupted: pages that were
// not written back read as zeros, so a run of NUL bytes from the batch's
// start (or a sector boundary) to a sector boundary, and then the rest of
// the batch, whose last line is signed. That batch was never acknowledged
// (its fdatasync did not complete) and is cut. NUL bytes that end inside a
// sector, or more batches after the hole than can be in flight (two), are
// not what a crash leaves: refused.
func TestPowerCutHoles(t *testing.T) {
	signed := func(seq int) []byte {
		return fmt.Appendf(nil, `{"seq":%d,"time":"x","prev":"y","salt":"z","event":{},"sig":"AAAA"}`+"\n", seq)
	}
	for _, tc := range []struct {
		name string
		tail func(end int) []byte // appended to a segment that ends at end
		ok   bool
	}{
		{"hole to a sector boundary, then the signed end of the batch", func(end int) []byte {
			hole := (end/512+2)*512 - end
			b := append(make([]byte, hole), []byte(`ad":"xxxx"}}`+"\n")...)
			return append(append(b, signed(60)...), make([]byte, 3000)...)
		}, true},
		{"hole ending inside a sector", func(end int) []byte {
			hole := (end/512+2)*512 - end + 7
			b := append(make([]byte, hole), []byte(`ad":"xxxx"}}`+"\n")...)
			return append(b, signed(60)...)
		}, false},
		// Two batches are in flight with Stage: the one whose fdatasync
		// runs and the next; a power cut can leave a hole in the first
		// and both signatures.
		{"hole, then two signed lines", func(end int) []byte {
			hole := (end/512+2)*512 - end
			b := append(make([]byte, hole), signed(60)...)
			return append(b, signed(61)...)
		}, true},
		{"hole, then two signed lines and a torn one", func(end int) []byte {
			hole := (end/512+2)*512 - end
			b := append(append(make([]byte, hole), signed(60)...), signed(61)...)
			return append(b, []byte(`{"seq":62,"ti`)...)
		}, false},
		{"hole, then three signed lines", func(end int) []byte {
			hole := (end/512+2)*512 - end
			b := append(append(make([]byte, hole), signed(60)...), signed(61)...)
			return append(b, signed(62)...)
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := buildLog(t, 60, 5, 1<<20, false)
			os.Remove(filepath.Join(dir, layout.CheckpointFile)) // lags the log after a power cut
			p := lastSegment(t, dir)
			b, _ := os.ReadFile(p)
			os.WriteFile(p, append(b, tc.tail(len(b))...), 0o644)
			before := snapshot(t, dir)
			logs, lg := newCapture(t)
			l, err := openLog(t, dir, lg, 1<<20)
			if !tc.ok {
				if err == nil {
					l.Close()
					t.Fatal("Open accepted a tail no crash leaves, after which a signature follows")
				}
				if !errors.Is(err, store.ErrCorrupt) {
					t.Fatalf("Open: %v, want ErrCorrupt", err)
				}
				if after := snapshot(t, dir); after != before {
					t.Fatal("the refused open changed the log")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			h, _ := l.Head(context.Background())
			l.Close()
			if h.Size != 60 {
				t.Fatalf("%d entries after recovery, want 60", h.Size)
			}
			if s := logs.String(); !strings.Contains(s, "never acknowledged") {
				t.Fatalf("recovery did not say what it cut:\n%s", s)
			}
			k, _ := testKey(t)
			verifyDir(t, dir, k, 60)
		})
	}
}
