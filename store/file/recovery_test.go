//go:build unix

package file_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/store/file"
	"github.com/sealog/sealog/verify"
)

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func logger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// fixture is a closed log of 30 entries in batches of 5 (signatures on
// entries 4, 9, ..., 29), in segments of 2 KiB.
type fixture struct {
	dir string
	key *sealog.Key
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	skey, _, _ := sealog.GenerateKey("recovery.example/log")
	k, _ := sealog.ParseKey(skey)
	f := &fixture{dir: filepath.Join(t.TempDir(), "log"), key: k}
	l := f.open(t)
	for i := 0; i < 30; i += 5 {
		var evs []sealog.Event
		for j := i; j < i+5; j++ {
			evs = append(evs, sealog.Event{Kind: "k", Payload: map[string]int{"j": j}})
		}
		if _, err := l.AppendBatch(context.Background(), evs); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) open(t *testing.T) *sealog.Log {
	t.Helper()
	l, err := f.tryOpen(t)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func (f *fixture) tryOpen(t *testing.T) (*sealog.Log, error) {
	return sealog.Open(f.dir, sealog.Options{Key: f.key, File: file.Options{SegmentSize: 2048}, Logger: logger(t)})
}

func (f *fixture) lastSegment(t *testing.T) string {
	segs, _, err := layout.Segments(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	return segs[len(segs)-1].Path
}

func (f *fixture) appendToLast(t *testing.T, b []byte) {
	fh, err := os.OpenFile(f.lastSegment(t), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	fh.Write(b)
	fh.Close()
}

// lastLines returns the last segment's lines.
func (f *fixture) lastLines(t *testing.T) [][]byte {
	b, _ := os.ReadFile(f.lastSegment(t))
	return bytes.SplitAfter(b, []byte("\n"))
}

func (f *fixture) verify(t *testing.T, want uint64) {
	t.Helper()
	rep, err := verify.Verify(context.Background(), verify.Dir(f.dir), verify.Options{Key: f.key.VerifierKey()})
	if err != nil || !rep.Valid || rep.Entries != want || rep.Unsigned != 0 {
		t.Fatalf("verify: %v %+v", err, rep)
	}
}

func tornFiles(t *testing.T, dir string) int {
	ents, _ := os.ReadDir(filepath.Join(dir, layout.TornDir))
	return len(ents)
}

// TestRecovery is the table of damaged tails recovery must handle: what a
// crash can leave is cut (and kept in torn/); what a crash cannot leave
// makes Open refuse the log rather than cut acknowledged entries.
func TestRecovery(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, f *fixture)
		size   uint64 // entries after recovery; 0 means Open must fail
		torn   bool   // a copy of cut bytes is kept
		err    error
	}{
		{"clean", func(t *testing.T, f *fixture) {}, 30, false, nil},
		{"NUL padding", func(t *testing.T, f *fixture) { f.appendToLast(t, make([]byte, 10000)) }, 30, false, nil},
		// A crash can tear only a batch that was never acknowledged, so
		// the checkpoint file never covers it: these cases remove it.
		{"torn last line", func(t *testing.T, f *fixture) {
			path := f.lastSegment(t)
			b, _ := os.ReadFile(path)
			os.WriteFile(path, b[:len(b)-40], 0o644) // entry 29's signature line, cut
			os.Remove(filepath.Join(f.dir, layout.CheckpointFile))
		}, 25, true, nil},
		{"torn line then NULs", func(t *testing.T, f *fixture) {
			path := f.lastSegment(t)
			b, _ := os.ReadFile(path)
			os.WriteFile(path, append(b[:len(b)-40], make([]byte, 5000)...), 0o644)
			os.Remove(filepath.Join(f.dir, layout.CheckpointFile))
		}, 25, true, nil},
		{"unsigned entries after the last batch", func(t *testing.T, f *fixture) {
			lines := f.lastLines(t)
			extra := bytes.Replace(lines[len(lines)-2], []byte(`,"sig":"`), []byte(`,"zzz":"`), 1) // drop the sig member's name
			extra = extra[:bytes.Index(extra, []byte(`,"zzz"`))]
			f.appendToLast(t, append(extra, '}', '\n'))
		}, 30, true, nil},
		{"garbage line at the end", func(t *testing.T, f *fixture) { f.appendToLast(t, []byte("not json\n")) }, 30, true, nil},
		{"damaged line before a signature", func(t *testing.T, f *fixture) {
			path := f.lastSegment(t)
			b, _ := os.ReadFile(path)
			i := bytes.Index(b, []byte(`"j":`))
			b[i+4] = 'x'
			os.WriteFile(path, b, 0o644)
		}, 0, false, sealog.ErrCorrupt},
		{"forged last signature", func(t *testing.T, f *fixture) {
			path := f.lastSegment(t)
			b, _ := os.ReadFile(path)
			i := bytes.LastIndex(b, []byte(`,"sig":"`)) + 20
			b[i] = 'A' + (b[i]-'A'+1)%26
			os.WriteFile(path, b, 0o644)
		}, 0, false, sealog.ErrCorrupt},
		{"entries removed below the checkpoint", func(t *testing.T, f *fixture) {
			path := f.lastSegment(t)
			lines := f.lastLines(t)
			os.WriteFile(path, bytes.Join(lines[:len(lines)-6], nil), 0o644) // back to entry 24, a batch end
		}, 0, false, sealog.ErrTruncated},
		{"checkpoint file garbage", func(t *testing.T, f *fixture) {
			os.WriteFile(filepath.Join(f.dir, layout.CheckpointFile), []byte("garbage"), 0o644)
		}, 30, false, nil},
		{"hashes file removed", func(t *testing.T, f *fixture) { os.Remove(filepath.Join(f.dir, layout.HashesFile)) }, 30, false, nil},
		{"index file truncated", func(t *testing.T, f *fixture) { os.Truncate(filepath.Join(f.dir, layout.IndexFile), 16) }, 30, false, nil},
		{"compression interrupted", func(t *testing.T, f *fixture) {
			segs, _, _ := layout.Segments(f.dir)
			os.WriteFile(strings.TrimSuffix(segs[0].Path, ".jsonl")+".jsonl.zst", []byte("half a zstd file"), 0o644)
		}, 30, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			tc.damage(t, f)
			l, err := f.tryOpen(t)
			if tc.size == 0 {
				if err == nil {
					l.Close()
					t.Fatal("Open accepted a log a crash cannot have damaged this way")
				}
				if !errors.Is(err, tc.err) {
					t.Fatalf("Open: %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n := logSize(t, l); n != tc.size {
				t.Fatalf("size %d after recovery, want %d", n, tc.size)
			}
			for i := uint64(0); i < tc.size; i++ {
				if _, err := l.Entry(context.Background(), i); err != nil {
					t.Fatalf("entry %d: %v", i, err)
				}
			}
			if _, err := l.Append(context.Background(), sealog.Event{Kind: "after.recovery"}); err != nil {
				t.Fatal(err)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			f.verify(t, tc.size+1)
			if got := tornFiles(t, f.dir) > 0; got != tc.torn {
				t.Fatalf("copy kept in torn/: %v, want %v", got, tc.torn)
			}
		})
	}
}

// TestSecondWriter: a second Open for writing gets a clear error.
func TestSecondWriter(t *testing.T) {
	f := newFixture(t)
	l := f.open(t)
	defer l.Close()
	_, err := f.tryOpen(t)
	if !errors.Is(err, store.ErrLocked) || !strings.Contains(err.Error(), "open for writing by another process") {
		t.Fatalf("second writer: %v", err)
	}
	r, err := sealog.Open(f.dir, sealog.Options{ReadOnly: true})
	if err != nil || logSize(t, r) != 30 {
		t.Fatalf("a reader beside the writer: %v", err)
	}
	r.Close()
}

// TestFaults fails each persistence step, before and after it lands: the
// failing append returns an error, the log refuses appends until it is
// reopened, and after reopening every acknowledged entry is there and the
// log verifies.
func TestFaults(t *testing.T) {
	for _, step := range []string{"rotate", "write segment", "write index", "write hashes", "sync segment"} {
		for _, when := range []string{"before", "after"} {
			t.Run(step+"/"+when, func(t *testing.T) {
				f := newFixture(t)
				l := f.open(t)
				ctx := context.Background()
				armed := true
				file.SetFaultHook(func(s, w string) error {
					if armed && s == step && w == when {
						armed = false
						return fmt.Errorf("injected %s failure %s", step, when)
					}
					return nil
				})
				defer file.SetFaultHook(nil)
				var failed bool
				for i := 0; i < 40 && !failed; i++ { // enough to cross a rotation
					_, err := l.Append(ctx, sealog.Event{Kind: "k", Payload: map[string]int{"i": i}})
					failed = err != nil
				}
				if !failed {
					t.Fatal("the injected fault was not reported")
				}
				if _, err := l.Append(ctx, sealog.Event{Kind: "k"}); !errors.Is(err, store.ErrPoisoned) {
					t.Fatalf("append after a failure: %v, want ErrPoisoned", err)
				}
				acked := logSize(t, l)
				l.Close()
				file.SetFaultHook(nil)
				l = f.open(t)
				if n := logSize(t, l); n < acked {
					t.Fatalf("reopened with %d entries, %d were acknowledged", n, acked)
				}
				if _, err := l.Append(ctx, sealog.Event{Kind: "k"}); err != nil {
					t.Fatal(err)
				}
				size := logSize(t, l)
				l.Close()
				f.verify(t, size)
			})
		}
	}
}

// logSize returns the log's size, failing the test on error.
func logSize(t *testing.T, l *sealog.Log) uint64 {
	t.Helper()
	h, err := l.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return h.Size
}
