package verify_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/verify"
)

// FuzzVerifyDir runs the whole verifier on a log directory whose
// metadata, checkpoint file and segments are the fuzzer's, with a
// deadline: it must neither hang nor panic, and its report must agree
// with itself. Seeded with the test vector log (go test ./verify -run '^$'
// -fuzz FuzzVerifyDir).
func FuzzVerifyDir(f *testing.F) {
	vdir := filepath.Join("..", "testdata", "vectors", "log")
	meta, err := os.ReadFile(filepath.Join(vdir, layout.MetadataFile))
	if err != nil {
		f.Fatal(err)
	}
	ck, _ := os.ReadFile(filepath.Join(vdir, layout.CheckpointFile))
	pub, _ := os.ReadFile(filepath.Join(vdir, "..", "log.pub"))
	key := strings.TrimSpace(string(pub))
	segs, _, _ := layout.Segments(vdir)
	var all []byte
	dec, _ := zstd.NewReader(nil)
	for _, s := range segs {
		b, _ := os.ReadFile(s.Path)
		if s.Compressed {
			b, _ = dec.DecodeAll(b, nil)
		}
		all = append(all, b...)
	}
	f.Add(meta, ck, all, uint8(0))
	f.Add(meta, ck, all[:len(all)/2], uint8(1))
	f.Add(meta, []byte("junk"), append(bytes.Clone(all), 0, 0, 1), uint8(2))
	f.Add([]byte("{}"), ck, all, uint8(3))
	// Without signatures, for the fuzzing engine: it instruments the
	// crypto code too, which makes each Ed25519 verification take seconds.
	bare := regexp.MustCompile(`,"sig":"[A-Za-z0-9+/=]*"`).ReplaceAll(all, nil)
	f.Add(meta, []byte(nil), bare, uint8(4))
	f.Add(meta, []byte(nil), bare[:len(bare)/3], uint8(13))
	f.Fuzz(func(t *testing.T, meta, ck, seg []byte, split uint8) {
		dir := t.TempDir()
		sd := filepath.Join(dir, layout.SegmentsDir)
		os.Mkdir(sd, 0o755)
		os.WriteFile(filepath.Join(dir, layout.MetadataFile), meta, 0o644)
		os.WriteFile(filepath.Join(dir, layout.CheckpointFile), ck, 0o644)
		// Cut the bytes into two segments at a line boundary chosen by split.
		cut := 0
		for n := 0; n < int(split)%8 && cut < len(seg); n++ {
			i := bytes.IndexByte(seg[cut:], '\n')
			if i < 0 {
				break
			}
			cut += i + 1
		}
		os.WriteFile(filepath.Join(sd, layout.SegmentName(0, false)), seg[:cut], 0o644)
		os.WriteFile(filepath.Join(sd, layout.SegmentName(uint64(split%8), split&8 != 0)), seg[cut:], 0o644)
		for _, k := range []string{key, ""} {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			rep, err := verify.Verify(ctx, verify.Dir(dir), verify.Options{Key: k, Workers: 2})
			hung := ctx.Err() != nil
			cancel()
			if hung {
				t.Fatal("the verifier hung")
			}
			if err != nil {
				continue
			}
			switch {
			case rep.Valid != (rep.Verdict == verify.VerdictValid):
				t.Fatalf("valid %v, verdict %q", rep.Valid, rep.Verdict)
			case rep.Valid && (len(rep.Problems) > 0 || rep.Authenticated != rep.Entries || rep.Unsigned > 0 || rep.Tampered > 0):
				t.Fatalf("a valid report with problems: %s", dump(rep))
			case rep.Tampered != rep.Changed+rep.Missing+rep.Inserted+rep.Reordered:
				t.Fatalf("counts do not add up: %s", dump(rep))
			case rep.FirstInvalid != nil && rep.FirstProblem == nil:
				t.Fatalf("first invalid without a problem: %s", dump(rep))
			case rep.Verdict == verify.VerdictWrongKey && rep.Changed > 0:
				t.Fatalf("wrong key, yet entries counted changed: %s", dump(rep))
			}
		}
	})
}
