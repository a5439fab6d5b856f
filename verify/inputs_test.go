package verify_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/internal/speclog"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/verify"
)

// TestTrustedCheckpointInput: a checkpoint that went through mail or a
// ticket still works; one that is not a checkpoint of this log is the
// caller's error, named, never a verdict on the log (issue 8, item 7).
func TestTrustedCheckpointInput(t *testing.T) {
	l := specLog(4, 4)
	dir := writeSpec(t, l, 0)
	ck := l.Notes[8]
	for name, b := range map[string][]byte{
		"CRLF":                 bytes.ReplaceAll(ck, []byte("\n"), []byte("\r\n")),
		"no final newline":     bytes.TrimSuffix(ck, []byte("\n")),
		"CRLF, no final CRLF":  bytes.TrimSuffix(bytes.ReplaceAll(ck, []byte("\n"), []byte("\r\n")), []byte("\r\n")),
		"a byte order mark":    append([]byte("\uFEFF"), ck...),
		"trailing blank lines": append(bytes.Clone(ck), "\n\n \n"...),
	} {
		t.Run(name, func(t *testing.T) {
			rep := run(t, dir, verify.Options{Key: l.VKey, Checkpoints: [][]byte{b}})
			want(t, rep, verify.VerdictValid, nil)
			if !rep.TruncationChecked {
				t.Fatalf("%s", dump(rep))
			}
		})
	}
	other := speclog.New("other", "other.example/audit")
	other.Append(2)
	sameName := speclog.New("another key", "test.example/audit")
	sameName.Append(8)
	for name, tc := range map[string]struct {
		b    []byte
		says string
	}{
		"/etc/hostname":        {[]byte("myhost\n"), "not a signed checkpoint"},
		"empty":                {nil, "not a signed checkpoint"},
		"a checkpoint text":    {ck[:bytes.Index(ck, []byte("\n\n"))+1], "not a signed checkpoint"},
		"another log's":        {other.Checkpoint(), `"other.example/audit"`},
		"two lines by the key": {append(bytes.Clone(ck), ck[bytes.Index(ck, []byte("\n\n"))+2:]...), "two signature lines"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := verify.Verify(context.Background(), verify.Dir(dir), verify.Options{Key: l.VKey, Checkpoints: [][]byte{ck, tc.b}})
			var ie *verify.InputError
			if !errors.As(err, &ie) || ie.What != "trusted checkpoint 2" || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("got %v, want an input error about trusted checkpoint 2 saying %q", err, tc.says)
			}
		})
	}
	_ = checkpoint.MaxSize
}

// TestDestroyedLog: with a key from outside the log, a log whose metadata
// or segments are gone is tampered, not "not a log" (issue 8, item 11).
func TestDestroyedLog(t *testing.T) {
	l := specLog(4, 4)
	cases := []struct {
		name    string
		destroy func(dir string)
		opts    func() verify.Options
		first   *uint64
	}{
		{"sealog.json deleted", func(dir string) { os.Remove(filepath.Join(dir, layout.MetadataFile)) },
			func() verify.Options { return verify.Options{Key: l.VKey} }, nil},
		{"sealog.json replaced by garbage", func(dir string) { os.WriteFile(filepath.Join(dir, layout.MetadataFile), []byte("{}"), 0o644) },
			func() verify.Options { return verify.Options{Key: l.VKey, Checkpoints: [][]byte{l.Checkpoint()}} }, nil},
		{"segments deleted", func(dir string) { os.RemoveAll(filepath.Join(dir, layout.SegmentsDir)) },
			func() verify.Options { return verify.Options{Key: l.VKey, Checkpoints: [][]byte{l.Checkpoint()}} }, ptr(0)},
		{"everything but the directory", func(dir string) {
			os.RemoveAll(filepath.Join(dir, layout.SegmentsDir))
			os.Remove(filepath.Join(dir, layout.MetadataFile))
			os.Remove(filepath.Join(dir, layout.CheckpointFile))
		}, func() verify.Options { return verify.Options{Key: l.VKey, Checkpoints: [][]byte{l.Checkpoint()}} }, ptr(0)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeSpec(t, l, 0)
			tc.destroy(dir)
			rep := run(t, dir, tc.opts())
			want(t, rep, verify.VerdictTampered, tc.first)
			if _, err := verify.Verify(context.Background(), verify.Dir(dir), verify.Options{}); err == nil {
				t.Fatal("without a key from outside, a destroyed log is an error")
			}
		})
	}
	empty := t.TempDir()
	if _, err := verify.Verify(context.Background(), verify.Dir(empty), verify.Options{Key: l.VKey}); !errors.Is(err, layout.ErrNotLog) {
		t.Fatalf("an empty directory with a key: %v, want ErrNotLog", err)
	}
}

// TestDamagedCompressedSegment: a sealed segment that does not decompress
// is damage at the seq expected next, in the report (issue 8, item 12).
func TestDamagedCompressedSegment(t *testing.T) {
	l := specLog(4, 4, 4)
	dir := filepath.Join(t.TempDir(), "log")
	if err := l.Write(dir, speclog.WriteOptions{SegmentEntries: 4, Compress: true}); err != nil {
		t.Fatal(err)
	}
	want(t, run(t, dir, verify.Options{Key: l.VKey}), verify.VerdictValid, nil)
	z := filepath.Join(dir, layout.SegmentsDir, layout.SegmentName(4, true))
	b, _ := os.ReadFile(z)
	for name, bad := range map[string][]byte{
		"cut in half":  b[:len(b)/2],
		"not zstd":     []byte("this is not zstd"),
		"empty":        nil,
		"bits flipped": append(append(bytes.Clone(b[:8]), 0xff, 0xff, 0xff), b[11:]...),
	} {
		t.Run(name, func(t *testing.T) {
			os.WriteFile(z, bad, 0o644)
			rep := run(t, dir, verify.Options{Key: l.VKey})
			if rep.Valid || rep.FirstInvalid == nil || *rep.FirstInvalid > 4 {
				t.Fatalf("%s", dump(rep))
			}
		})
	}
}

// TestHostileFiles: a FIFO, a symlink to /dev/zero or a huge sparse file
// in place of a log's files makes no reader hang or run out of memory;
// each is damage, reported (issue 8, items 14 and 17).
func TestHostileFiles(t *testing.T) {
	l := specLog(4, 4)
	cases := []struct {
		name    string
		path    string
		make    func(p string) error
		verdict string // "" : Verify returns an error (no key from outside)
	}{
		{"checkpoint FIFO", layout.CheckpointFile, fifo, verify.VerdictTampered},
		{"checkpoint -> /dev/zero", layout.CheckpointFile, zeroLink, verify.VerdictTampered},
		{"checkpoint huge", layout.CheckpointFile, sparse(1 << 40), verify.VerdictTampered},
		{"sealog.json FIFO", layout.MetadataFile, fifo, verify.VerdictTampered},
		{"sealog.json -> /dev/zero", layout.MetadataFile, zeroLink, verify.VerdictTampered},
		{"lock FIFO", layout.LockFile, fifo, verify.VerdictValid},
		{"lock -> /dev/zero", layout.LockFile, zeroLink, verify.VerdictValid},
		{"index FIFO", layout.IndexFile, fifo, verify.VerdictValid},
		{"hashes -> /dev/zero", layout.HashesFile, zeroLink, verify.VerdictValid},
		{"a .zidx FIFO", filepath.Join(layout.SegmentsDir, layout.FrameIndexName(0)), fifo, verify.VerdictValid},
		{"a segment FIFO", filepath.Join(layout.SegmentsDir, layout.SegmentName(8, false)), fifo, verify.VerdictTampered},
		{"a segment -> /dev/zero", filepath.Join(layout.SegmentsDir, layout.SegmentName(8, false)), zeroLink, verify.VerdictTampered},
		{"a directory named like a segment", filepath.Join(layout.SegmentsDir, layout.SegmentName(8, false)), func(p string) error { return os.Mkdir(p, 0o755) }, verify.VerdictTampered},
		{"a segment numbered beyond 2^64-1", filepath.Join(layout.SegmentsDir, "99999999999999999999.jsonl"), func(p string) error { return os.WriteFile(p, nil, 0o644) }, verify.VerdictTampered},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeSpec(t, l, 0)
			p := filepath.Join(dir, tc.path)
			os.Remove(p)
			if err := tc.make(p); err != nil {
				t.Fatal(err)
			}
			rep := run(t, dir, verify.Options{Key: l.VKey})
			if rep.Verdict != tc.verdict {
				t.Fatalf("verdict %q, want %q: %s", rep.Verdict, tc.verdict, dump(rep))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			verify.Verify(ctx, verify.Dir(dir), verify.Options{}) // must return, whatever it says
			if ctx.Err() != nil {
				t.Fatal("the verifier hung")
			}
		})
	}
}

// TestSparseLastSegment: 16 TiB of holes after the last line cost no time
// (issue 8, item 17): they read as NUL padding and are skipped.
func TestSparseLastSegment(t *testing.T) {
	l := specLog(4, 4)
	dir := writeSpec(t, l, 0)
	seg := filepath.Join(dir, layout.SegmentsDir, layout.SegmentName(0, false))
	// ext4 stops just short of 16 TiB; 1 TiB read byte by byte would
	// still take about an hour.
	var err error
	for _, size := range []int64{16 << 40, 15 << 40, 1 << 40} {
		if err = os.Truncate(seg, size); err == nil {
			break
		}
	}
	if err != nil {
		t.Skipf("this file system cannot hold a large sparse file: %v", err)
	}
	start := time.Now()
	rep := run(t, dir, verify.Options{Key: l.VKey})
	want(t, rep, verify.VerdictValid, nil)
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("verifying took %v", d)
	}
}

func fifo(p string) error     { return syscall.Mkfifo(p, 0o644) }
func zeroLink(p string) error { return os.Symlink("/dev/zero", p) }
func sparse(n int64) func(string) error {
	return func(p string) error {
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			return err
		}
		return os.Truncate(p, n)
	}
}
