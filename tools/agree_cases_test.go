package tools_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/internal/speclog"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/verify"
)

const (
	valid      = verify.VerdictValid
	tampered   = verify.VerdictTampered
	unsignedV  = verify.VerdictUnsigned
	wrongKey   = verify.VerdictWrongKey
	refused    = "error"
	lastSecond = math.MaxInt64 - 5 // in 2262-04-11T23:47:16Z, the last second a leaf header holds
)

// TestAgreeForgeries: items 1, 2, 5 and 8 of issue 8, on both verifiers.
func TestAgreeForgeries(t *testing.T) {
	runAgree(t, []agreeCase{
		specCase("genuine erasure", func(l *speclog.Log) { l.Erase(3, "r") }, valid, nil),
		specCase("forged erasure", func(l *speclog.Log) { l.EraseLine(3) }, tampered, u(3)),
		specCase("forged erasure of a signed line", func(l *speclog.Log) { l.EraseLine(5) }, tampered, u(5)),
		specCase("erasure record names another hash", func(l *speclog.Log) {
			l.AppendEvents(format.AppendErasureEvent(nil, 3, l.BodyHash(2), "", "r"))
			l.EraseLine(3)
		}, tampered, u(3)),
		specCase("erasure record erased", func(l *speclog.Log) { l.Erase(3, "r"); l.EraseLine(l.Size() - 1) }, tampered, u(3)),
		specCase("erasure record in an unsigned tail", func(l *speclog.Log) {
			l.AppendUnsigned(erasureEvent(l, 3))
			l.EraseLine(3)
		}, tampered, u(3)),
		specCase("erasure record with an actor and escapes", func(l *speclog.Log) {
			l.AppendEvents(format.AppendErasureEvent(nil, 1, l.BodyHash(1), "dpo@example.com", "line\nbreak \"q\" \x01"))
			l.EraseLine(1)
		}, valid, nil),
		specCase("erasure in progress", func(l *speclog.Log) { l.AppendEvents(erasureEvent(l, 3)) }, valid, nil),
		specCase("crash remnant", func(l *speclog.Log) { l.AppendUnsigned(speclog.Event(10), speclog.Event(11)) }, unsignedV, nil),
		fileCase("entries forged without signatures, across segments", func(t *testing.T, l *speclog.Log, dir string) opts {
			f := speclog.New("agree", "agree.example/audit")
			for i := range 6 {
				f.AppendUnsigned(speclog.Event(uint64(i)))
			}
			os.RemoveAll(filepath.Join(dir, layout.SegmentsDir))
			os.Remove(filepath.Join(dir, layout.CheckpointFile))
			if err := f.Write(dir, speclog.WriteOptions{NoCheckpoint: true}); err != nil {
				t.Fatal(err)
			}
			b, _ := os.ReadFile(segPath(dir, 0))
			lines := bytes.SplitAfter(b, []byte("\n"))
			os.WriteFile(segPath(dir, 0), bytes.Join(lines[:3], nil), 0o644)
			os.WriteFile(segPath(dir, 3), bytes.Join(lines[3:], nil), 0o644)
			return opts{key: l.VKey}
		}, tampered, u(0)),
		fileCase("another key", func(t *testing.T, l *speclog.Log, dir string) opts {
			_, other := speclog.Keys("other", "agree.example/audit")
			return opts{key: other}
		}, wrongKey, nil),
		fileCase("another key, every signature", func(t *testing.T, l *speclog.Log, dir string) opts {
			_, other := speclog.Keys("other", "agree.example/audit")
			return opts{key: other, all: true}
		}, wrongKey, nil),
		fileCase("a key of another origin", func(t *testing.T, l *speclog.Log, dir string) opts {
			_, other := speclog.Keys("other", "other.example/audit")
			return opts{key: other}
		}, wrongKey, nil),
		fileCase("intermediate signature of another length", func(t *testing.T, l *speclog.Log, dir string) opts {
			editSeg(t, dir, 0, `"}`+"\n", `AAAA"}`+"\n") // the first signed line
			return opts{key: l.VKey}
		}, tampered, u(1)),
		fileCase("intermediate signature, garbage of the right length", func(t *testing.T, l *speclog.Log, dir string) opts {
			sig := sigOf(t, l, 1)
			editSeg(t, dir, 0, sig, base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xab}, format.SigSize)))
			return opts{key: l.VKey}
		}, tampered, u(1)),
		fileCase("intermediate signature, garbage with the key's hash", func(t *testing.T, l *speclog.Log, dir string) opts {
			sig := sigOf(t, l, 1)
			editSeg(t, dir, 0, sig, sig[:6]+strings.Repeat("A", 85)+"=")
			return opts{key: l.VKey}
		}, valid, nil),
		fileCase("intermediate signature, garbage with the key's hash, every signature", func(t *testing.T, l *speclog.Log, dir string) opts {
			sig := sigOf(t, l, 1)
			editSeg(t, dir, 0, sig, sig[:6]+strings.Repeat("A", 85)+"=")
			return opts{key: l.VKey, all: true}
		}, tampered, u(1)),
		fileCase("a signature added to a line that ends no batch", func(t *testing.T, l *speclog.Log, dir string) opts {
			editSeg(t, dir, 0, `}}`+"\n", `}},"sig":"`+sigOf(t, l, 3)+`"}`+"\n")
			return opts{key: l.VKey, all: true}
		}, tampered, u(0)),
		fileCase("seq changed to 2^64-1", func(t *testing.T, l *speclog.Log, dir string) opts {
			editSeg(t, dir, 4, `{"seq":5,`, `{"seq":18446744073709551615,`)
			return opts{key: l.VKey}
		}, tampered, u(5)),
		fileCase("seq changed to the largest there is", func(t *testing.T, l *speclog.Log, dir string) opts {
			editSeg(t, dir, 4, `{"seq":5,`, `{"seq":9223372036854775806,`)
			return opts{key: l.VKey}
		}, tampered, u(5)),
		fileCase("an edit at 5", func(t *testing.T, l *speclog.Log, dir string) opts {
			editSeg(t, dir, 4, `"n":5`, `"n":6`)
			return opts{key: l.VKey}
		}, tampered, u(5)),
		fileCase("a line deleted", func(t *testing.T, l *speclog.Log, dir string) opts {
			editSeg(t, dir, 4, string(l.Lines[5]), "")
			return opts{key: l.VKey}
		}, tampered, u(5)),
	})
}

// sigOf returns the base64 signature member of entry seq.
func sigOf(t *testing.T, l *speclog.Log, seq int) string {
	t.Helper()
	line := l.Lines[seq]
	i := bytes.LastIndex(line, []byte(`,"sig":"`))
	if i < 0 {
		t.Fatalf("entry %d is not signed", seq)
	}
	return string(line[i+8 : len(line)-3])
}

// TestAgreeInputs: items 7, 11, 12, 13, 14 and 17 of issue 8.
func TestAgreeInputs(t *testing.T) {
	note := func(l *speclog.Log) (text, sig string) {
		ck := string(l.Checkpoint())
		i := strings.Index(ck, "\n\n")
		return ck[:i+2], ck[i+2:]
	}
	runAgree(t, []agreeCase{
		fileCase("trusted checkpoint with CRLF, no final newline", func(t *testing.T, l *speclog.Log, dir string) opts {
			return opts{key: l.VKey, cps: [][]byte{bytes.TrimSuffix(bytes.ReplaceAll(l.Notes[6], []byte("\n"), []byte("\r\n")), []byte("\r\n"))}}
		}, valid, nil),
		fileCase("trusted checkpoint: not a checkpoint", func(t *testing.T, l *speclog.Log, dir string) opts {
			return opts{key: l.VKey, cps: [][]byte{[]byte("myhost\n")}}
		}, refused, nil),
		fileCase("trusted checkpoint of another log", func(t *testing.T, l *speclog.Log, dir string) opts {
			o := speclog.New("x", "other.example/audit")
			o.Append(1)
			return opts{key: l.VKey, cps: [][]byte{o.Checkpoint()}}
		}, refused, nil),
		fileCase("trusted checkpoint signed by another key", func(t *testing.T, l *speclog.Log, dir string) opts {
			o := speclog.New("another key", "agree.example/audit")
			o.Append(12)
			return opts{key: l.VKey, cps: [][]byte{o.Checkpoint()}}
		}, refused, nil),
		fileCase("checkpoint file with two signature lines by the key", func(t *testing.T, l *speclog.Log, dir string) opts {
			text, sig := note(l)
			writeIn(t, dir, layout.CheckpointFile, []byte(text+sig+sig))
			return opts{key: l.VKey}
		}, tampered, nil),
		fileCase("checkpoint file, signature in non-canonical base64", func(t *testing.T, l *speclog.Log, dir string) opts {
			text, sig := note(l)
			b := []byte(sig)
			b[len(b)-3]++ // stray bits before the padding
			writeIn(t, dir, layout.CheckpointFile, append([]byte(text), b...))
			return opts{key: l.VKey}
		}, tampered, nil),
		fileCase("checkpoint file, a cosignature whose key name holds +", func(t *testing.T, l *speclog.Log, dir string) opts {
			text, sig := note(l)
			writeIn(t, dir, layout.CheckpointFile, []byte(text+sig+"— witness+1 AAAAAAAAAAAA\n"))
			return opts{key: l.VKey}
		}, tampered, nil),
		fileCase("checkpoint file with a cosignature", func(t *testing.T, l *speclog.Log, dir string) opts {
			text, sig := note(l)
			writeIn(t, dir, layout.CheckpointFile, []byte(text+sig+"— witness.example/w AAAAAAAAAAAA\n"))
			return opts{key: l.VKey}
		}, valid, nil),
		fileCase("checkpoint file is a FIFO", func(t *testing.T, l *speclog.Log, dir string) opts {
			mkfifo(t, filepath.Join(dir, layout.CheckpointFile))
			return opts{key: l.VKey}
		}, tampered, nil),
		fileCase("sealog.json is a FIFO, no key", func(t *testing.T, l *speclog.Log, dir string) opts {
			mkfifo(t, filepath.Join(dir, layout.MetadataFile))
			return opts{}
		}, refused, nil),
		fileCase("lock is a FIFO", func(t *testing.T, l *speclog.Log, dir string) opts {
			mkfifo(t, filepath.Join(dir, layout.LockFile))
			return opts{key: l.VKey}
		}, valid, nil),
		fileCase("a segment is a FIFO", func(t *testing.T, l *speclog.Log, dir string) opts {
			mkfifo(t, segPath(dir, 8))
			return opts{key: l.VKey}
		}, tampered, u(8)),
		fileCase("a segment is a symlink to a copy", func(t *testing.T, l *speclog.Log, dir string) opts {
			p := segPath(dir, 8)
			copy := filepath.Join(t.TempDir(), "copy")
			b, _ := os.ReadFile(p)
			os.WriteFile(copy, b, 0o644)
			os.Remove(p)
			os.Symlink(copy, p)
			return opts{key: l.VKey}
		}, tampered, u(8)),
		fileCase("a directory named like a segment", func(t *testing.T, l *speclog.Log, dir string) opts {
			os.Mkdir(filepath.Join(dir, layout.SegmentsDir, layout.SegmentName(20, false)), 0o755)
			return opts{key: l.VKey}
		}, tampered, nil),
		fileCase("a segment named beyond 2^64-1", func(t *testing.T, l *speclog.Log, dir string) opts {
			writeIn(t, dir, filepath.Join(layout.SegmentsDir, "99999999999999999999.jsonl"), nil)
			return opts{key: l.VKey}
		}, tampered, nil),
		fileCase("sparse last segment", func(t *testing.T, l *speclog.Log, dir string) opts {
			if err := os.Truncate(segPath(dir, 8), 1<<40); err != nil {
				t.Skip(err)
			}
			return opts{key: l.VKey}
		}, valid, nil),
		fileCase("sealog.json deleted, key given", func(t *testing.T, l *speclog.Log, dir string) opts {
			os.Remove(filepath.Join(dir, layout.MetadataFile))
			return opts{key: l.VKey}
		}, tampered, nil),
		fileCase("segments deleted, key and checkpoint given", func(t *testing.T, l *speclog.Log, dir string) opts {
			os.RemoveAll(filepath.Join(dir, layout.SegmentsDir))
			return opts{key: l.VKey, cps: [][]byte{l.Checkpoint()}}
		}, tampered, u(0)),
		fileCase("trusted checkpoint covers part of the log", func(t *testing.T, l *speclog.Log, dir string) opts {
			return opts{key: l.VKey, cps: [][]byte{l.Notes[4]}}
		}, valid, nil),
	})
	var meta []agreeCase
	for name, m := range map[string]string{
		"a BOM":                  "\uFEFF" + metaJSON("format", "sealog/v1"),
		"NaN":                    strings.Replace(metaJSON("format", "sealog/v1"), `"created"`, `"x":NaN,"created"`, 1),
		"a duplicate member":     strings.Replace(metaJSON("format", "sealog/v1"), `{`, `{"format":"sealog/v1",`, 1),
		"a member in upper case": strings.Replace(metaJSON("format", "sealog/v1"), `"format"`, `"FORMAT"`, 1),
		"no created":             strings.Replace(metaJSON("format", "sealog/v1"), `,"created":"2026-11-21T09:00:00Z"`, ``, 1),
		"created in month 13":    strings.Replace(metaJSON("format", "sealog/v1"), `2026-11`, `2026-13`, 1),
		"an unknown member":      strings.Replace(metaJSON("format", "sealog/v1"), `{`, `{"comment":"x",`, 1),
		"a lone surrogate":       strings.Replace(metaJSON("format", "sealog/v1"), `"created"`, `"origin\ud800":"","created"`, 1),
	} {
		m := m
		meta = append(meta, fileCase("sealog.json with "+name+", no key", func(t *testing.T, l *speclog.Log, dir string) opts {
			writeIn(t, dir, layout.MetadataFile, []byte(strings.Replace(m, "KEY", l.VKey, 1)))
			return opts{}
		}, refused, nil), fileCase("sealog.json with "+name+", key given", func(t *testing.T, l *speclog.Log, dir string) opts {
			writeIn(t, dir, layout.MetadataFile, []byte(strings.Replace(m, "KEY", l.VKey, 1)))
			return opts{key: l.VKey}
		}, tampered, nil))
	}
	meta = append(meta, fileCase("sealog.json rewritten compactly", func(t *testing.T, l *speclog.Log, dir string) opts {
		writeIn(t, dir, layout.MetadataFile, []byte(strings.Replace(metaJSON("format", "sealog/v1"), "KEY", l.VKey, 1)))
		return opts{}
	}, valid, nil))
	runAgree(t, meta)
}

func metaJSON(k, v string) string {
	return fmt.Sprintf(`{%q:%q,"origin":"agree.example/audit","key":"KEY","created":"2026-11-21T09:00:00Z"}`, k, v)
}

// TestAgreeLines: the edges of the line format (issue 8, item 13).
func TestAgreeLines(t *testing.T) {
	bigEvent := func(lineLen int) func(l *speclog.Log) {
		return func(l *speclog.Log) {
			probe := *l
			probe.Lines = append([][]byte(nil), l.Lines...)
			probe.Notes = map[uint64][]byte{}
			ev := func(n int) []byte {
				b, _ := format.AppendEvent(nil, "big", "", "", []byte(`{"pad":"`+strings.Repeat("x", n)+`"}`))
				return b
			}
			probe.AppendEvents(ev(0))
			n := lineLen - len(probe.Lines[len(probe.Lines)-1])
			l.AppendEvents(ev(n))
			if got := len(l.Lines[len(l.Lines)-1]); got != lineLen {
				panic(fmt.Sprintf("line of %d bytes, want %d", got, lineLen))
			}
		}
	}
	runAgree(t, []agreeCase{
		specCase("a time in the last second a leaf holds", func(l *speclog.Log) {
			l.SetTime(lastSecond)
			l.Append(1)
		}, valid, nil),
		specCase("a line of exactly 4 MiB with its newline", bigEvent(format.MaxLineSize), valid, nil),
		specCase("a line of 4 MiB + 1 byte with its newline", bigEvent(format.MaxLineSize+1), tampered, u(10)),
		specCase("an event that is not an event object", func(l *speclog.Log) { l.AppendEvents([]byte(`{"x":1}`)) }, valid, nil),
		fileCase("compressed segments", func(t *testing.T, l *speclog.Log, dir string) opts {
			os.RemoveAll(filepath.Join(dir, layout.SegmentsDir))
			if err := l.Write(dir, speclog.WriteOptions{SegmentEntries: 4, Compress: true}); err != nil {
				t.Fatal(err)
			}
			return opts{key: l.VKey}
		}, valid, nil),
		fileCase("NUL bytes in a compressed segment", func(t *testing.T, l *speclog.Log, dir string) opts {
			os.RemoveAll(filepath.Join(dir, layout.SegmentsDir))
			if err := l.Write(dir, speclog.WriteOptions{SegmentEntries: 4, Compress: true}); err != nil {
				t.Fatal(err)
			}
			b, _ := os.ReadFile(segPath(dir, 0))
			_ = b
			z := filepath.Join(dir, layout.SegmentsDir, layout.SegmentName(4, true))
			var data []byte
			for _, ln := range l.Lines[4:8] {
				data = append(data, ln...)
			}
			enc, _ := zstd.NewWriter(nil)
			os.WriteFile(z, enc.EncodeAll(append(data, 0, 0, 0), nil), 0o644)
			return opts{key: l.VKey}
		}, tampered, u(8)),
		fileCase("a compressed segment that does not decompress", func(t *testing.T, l *speclog.Log, dir string) opts {
			os.RemoveAll(filepath.Join(dir, layout.SegmentsDir))
			if err := l.Write(dir, speclog.WriteOptions{SegmentEntries: 4, Compress: true}); err != nil {
				t.Fatal(err)
			}
			writeIn(t, dir, filepath.Join(layout.SegmentsDir, layout.SegmentName(4, true)), []byte("not zstd at all"))
			return opts{key: l.VKey}
		}, tampered, u(4)),
	})
	_ = checkpoint.MaxSize
}
