package integrity_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/integrity"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/store/file"
	"github.com/sealog/sealog/store/memstore"
)

// small segments: the file store's recovery replays only the active
// segment, so tampering in sealed ones is left to the start-up check.
var small = file.Options{SegmentSize: 1024}

type fixture struct {
	t     *testing.T
	key   *sealog.Key
	state string
}

func newFixture(t *testing.T) *fixture {
	skey, _ := testkit.Keys("integrity", testkit.Origin)
	key, err := sealog.ParseKey(skey)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, key: key, state: filepath.Join(t.TempDir(), "state.ckpt")}
}

// open opens dir with a start-up check and reports what it found.
func (f *fixture) open(dir string, opts integrity.Options) (*sealog.Log, integrity.Report, error) {
	var rep integrity.Report
	l, err := sealog.Open(dir, sealog.Options{Key: f.key, Rand: testkit.Rand(dir), Clock: testkit.Clock(time.Millisecond), File: small,
		Check: func(ctx context.Context, l *sealog.Log) error {
			var err error
			rep, err = integrity.Check(ctx, l, opts)
			return err
		}})
	return l, rep, err
}

// write appends n events to dir (no check) and closes it.
func (f *fixture) write(dir, tag string, n int) {
	l, err := sealog.Open(dir, sealog.Options{Key: f.key, Rand: testkit.Rand(dir + tag), Clock: testkit.Clock(time.Millisecond), File: small})
	if err != nil {
		f.t.Fatal(err)
	}
	defer l.Close()
	for i := range n {
		if _, err := l.Append(context.Background(), sealog.Event{Kind: "test." + tag, Payload: map[string]any{"i": i, "tag": tag}}); err != nil {
			f.t.Fatal(err)
		}
	}
}

func TestTailAcrossRuns(t *testing.T) {
	f := newFixture(t)
	dir := filepath.Join(t.TempDir(), "log")
	f.write(dir, "a", 10)
	opts := integrity.Options{StateFile: f.state, Logger: testkit.Logger(t)}
	l, rep, err := f.open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if rep.From != 0 || rep.Checked != 10 || rep.TrustedSize != 0 || rep.Size != 10 {
		t.Errorf("first run: %+v", rep)
	}
	f.write(dir, "b", 5)
	l, rep, err = f.open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if rep.From != 10 || rep.Checked != 5 || rep.TrustedSize != 10 || rep.Size != 15 {
		t.Errorf("second run: %+v", rep)
	}
	opts.Scope, opts.Dir = integrity.All, dir
	l, rep, err = f.open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if rep.From != 0 || rep.Checked != 15 || rep.TrustedSize != 15 || !rep.Verified {
		t.Errorf("all: %+v", rep)
	}
}

// editSegment replaces old by new (same length) in the log's segments.
func editSegment(t *testing.T, dir, old, new string) {
	segs, _ := filepath.Glob(filepath.Join(dir, "segments", "*.jsonl"))
	for _, seg := range segs {
		b, err := os.ReadFile(seg)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(old)) {
			if err := os.WriteFile(seg, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("%q is in no segment of %s", old, dir)
}

func TestTampering(t *testing.T) {
	for _, tc := range []struct {
		name string
		// prepare makes the log in dir and the state file, then tampers.
		prepare func(f *fixture, dir string)
		opts    integrity.Options
		want    string // in the error; "" means the check passes
	}{
		{
			name: "old entry changed, tail does not read it",
			prepare: func(f *fixture, dir string) {
				f.write(dir, "a", 10)
				f.check(dir, integrity.Options{})
				f.write(dir, "b", 3)
				editSegment(f.t, dir, `"i":2,"tag":"a"`, `"i":7,"tag":"a"`)
			},
			want: "",
		},
		{
			name: "old entry changed, all reads it",
			prepare: func(f *fixture, dir string) {
				f.write(dir, "a", 10)
				editSegment(f.t, dir, `"i":2,"tag":"a"`, `"i":7,"tag":"a"`)
			},
			opts: integrity.Options{Scope: integrity.All},
			want: "entry 2: log damaged: its line is not in the tree",
		},
		{
			name: "new entry changed, tail reads it",
			prepare: func(f *fixture, dir string) {
				f.write(dir, "a", 10)
				f.check(dir, integrity.Options{})
				f.write(dir, "b", 12)
				editSegment(f.t, dir, `"i":1,"tag":"b"`, `"i":9,"tag":"b"`)
			},
			want: "entry 11: log damaged",
		},
		{
			name: "old entry changed, the verifier reads the directory",
			prepare: func(f *fixture, dir string) {
				f.write(dir, "a", 10)
				f.check(dir, integrity.Options{})
				editSegment(f.t, dir, `"i":2,"tag":"a"`, `"i":7,"tag":"a"`)
			},
			opts: integrity.Options{Dir: "DIR"},
			want: "the verifier finds",
		},
		{
			name: "rolled back to an older copy",
			prepare: func(f *fixture, dir string) {
				f.write(dir, "a", 10)
				old := dir + ".old"
				if err := os.CopyFS(old, os.DirFS(dir)); err != nil {
					f.t.Fatal(err)
				}
				f.write(dir, "b", 5)
				f.check(dir, integrity.Options{})
				os.RemoveAll(dir)
				os.Rename(old, dir)
			},
			want: "the log holds 10 entries, but the checkpoint in",
		},
		{
			name: "rewritten with the same key",
			prepare: func(f *fixture, dir string) {
				f.write(dir, "a", 10)
				f.check(dir, integrity.Options{})
				os.RemoveAll(dir)
				f.write(dir, "z", 12)
			},
			want: "not consistent with the checkpoint in",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			dir := filepath.Join(t.TempDir(), "log")
			tc.prepare(f, dir)
			opts := tc.opts
			opts.StateFile = f.state
			if opts.Dir == "DIR" {
				opts.Dir = dir
			}
			l, _, err := f.open(dir, opts)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("check failed: %v", err)
				}
				l.Close()
				return
			}
			if err == nil {
				l.Close()
				t.Fatalf("check passed, want %q", tc.want)
			}
			if !errors.Is(err, integrity.ErrIntegrity) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want ErrIntegrity with %q", err, tc.want)
			}
			// The failed Open released the log: it opens again.
			l2, err := sealog.Open(dir, sealog.Options{Key: f.key})
			if err != nil {
				t.Fatalf("reopening after a failed check: %v", err)
			}
			l2.Close()
		})
	}
}

// check runs a passing check over dir, saving the state file.
func (f *fixture) check(dir string, opts integrity.Options) {
	opts.StateFile = f.state
	l, _, err := f.open(dir, opts)
	if err != nil {
		f.t.Fatal(err)
	}
	l.Close()
}

func TestBadStateFile(t *testing.T) {
	f := newFixture(t)
	dir := filepath.Join(t.TempDir(), "log")
	f.write(dir, "a", 3)
	other, _ := testkit.Keys("other", testkit.Origin)
	ok, _ := sealog.ParseKey(other)
	odir := filepath.Join(t.TempDir(), "other")
	g := &fixture{t: t, key: ok, state: f.state}
	g.write(odir, "a", 3)
	g.check(odir, integrity.Options{})
	_, _, err := f.open(dir, integrity.Options{StateFile: f.state})
	if err == nil || !strings.Contains(err.Error(), "not signed by a trusted key") {
		t.Fatalf("a state file of another log: %v", err)
	}
	os.WriteFile(f.state, []byte("garbage"), 0o644)
	_, _, err = f.open(dir, integrity.Options{StateFile: f.state})
	if err == nil || !strings.Contains(err.Error(), "the checkpoint in "+f.state) {
		t.Fatalf("garbage state file: %v", err)
	}

}

// TestAnyStore: the check runs over any store through New, here an
// in-memory one shared by two runs, and catches a rollback.
func TestAnyStore(t *testing.T) {
	f := newFixture(t)
	db := memstore.NewDB(store.Metadata{Format: "sealog/v1", Origin: f.key.Origin(), Key: f.key.VerifierKey()})
	opts := integrity.Options{StateFile: f.state}
	var rep integrity.Report
	newLog := func(st store.Store) (*sealog.Log, error) {
		return sealog.New(context.Background(), st, sealog.Options{Key: f.key, Rand: testkit.Rand("mem"), Check: func(ctx context.Context, l *sealog.Log) (err error) {
			rep, err = integrity.Check(ctx, l, opts)
			return err
		}})
	}
	for run := range 2 {
		l, err := newLog(db.Open())
		if err != nil {
			t.Fatal(err)
		}
		for i := range 4 {
			if _, err := l.Append(context.Background(), sealog.Event{Kind: "k", Payload: map[string]any{"run": run, "i": i}}); err != nil {
				t.Fatal(err)
			}
		}
		l.Close()
		if rep.Size != uint64(4*run) || rep.From != 0 {
			t.Errorf("run %d: %+v", run, rep)
		}
	}
	// A fresh database with the same key: the state file says 4 entries.
	db2 := memstore.NewDB(store.Metadata{Format: "sealog/v1", Origin: f.key.Origin(), Key: f.key.VerifierKey()})
	if _, err := newLog(db2.Open()); !errors.Is(err, integrity.ErrIntegrity) || !strings.Contains(err.Error(), "entries were removed") {
		t.Fatalf("a rolled-back store: %v", err)
	}
}
