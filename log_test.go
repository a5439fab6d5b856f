package sealog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/verify"
)

// testKey returns a fresh key for origin "test.example/log".
func testKey(t testing.TB) *Key {
	t.Helper()
	skey, _, err := GenerateKey("test.example/log")
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParseKey(skey)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// testLogger routes the library's log to t.Log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tLogWriter struct{ t testing.TB }

func (w tLogWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

func openTest(t testing.TB, dir string, k *Key) *Log {
	t.Helper()
	l, err := Open(dir, Options{Key: k, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestAppendReadReopen(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "log")
	k := testKey(t)
	l := openTest(t, dir, k)
	var rs []Receipt
	for i := 0; i < 10; i++ {
		r, err := l.Append(ctx, Event{Kind: "user.login", Actor: "alice", Payload: map[string]any{"i": i}})
		if err != nil {
			t.Fatal(err)
		}
		if r.Seq != uint64(i) {
			t.Fatalf("receipt seq %d, want %d", r.Seq, i)
		}
		if err := l.Prove(&r); err != nil {
			t.Fatal(err)
		}
		if _, err := VerifyReceipt(r, k.VerifierKey()); err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openTest(t, dir, k)
	defer l.Close()
	if l.Size() != 10 {
		t.Fatalf("size %d after reopen", l.Size())
	}
	for i := uint64(0); i < 10; i++ {
		e, err := l.Entry(i)
		if err != nil {
			t.Fatal(err)
		}
		var p struct{ I uint64 }
		if err := json.Unmarshal(e.Payload, &p); err != nil || p.I != i || e.Kind != "user.login" || e.LeafHash != rs[i].LeafHash {
			t.Fatalf("entry %d: %+v", i, e)
		}
	}
	r, err := l.Append(ctx, Event{Kind: "after.reopen"})
	if err != nil || r.Seq != 10 {
		t.Fatalf("append after reopen: %v %v", r.Seq, err)
	}
}

func TestConcurrentAppends(t *testing.T) {
	ctx := context.Background()
	l := openTest(t, t.TempDir(), testKey(t))
	var wg sync.WaitGroup
	seen := make([]bool, 64*50)
	var mu sync.Mutex
	for g := 0; g < 64; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				r, err := l.Append(ctx, Event{Kind: "k", Payload: map[string]int{"g": g, "i": i}})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[r.Seq] {
					t.Errorf("seq %d twice", r.Seq)
				}
				seen[r.Seq] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for i, s := range seen {
		if !s {
			t.Fatalf("seq %d missing", i)
		}
	}
	rep, err := verify.Verify(ctx, verify.Dir(l.Dir()), verify.Options{Key: l.VerifierKey()})
	if err != nil || !rep.Valid || rep.Entries != uint64(len(seen)) || len(rep.Gaps) != 0 {
		t.Fatalf("verify: %v %+v", err, rep)
	}
}

func TestErase(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	k := testKey(t)
	for _, compress := range []bool{false, true} {
		dir := filepath.Join(dir, fmt.Sprint(compress))
		l, err := Open(dir, Options{Key: k, SegmentSize: 4096, Compress: compress, Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 60; i++ {
			if _, err := l.Append(ctx, Event{Kind: "k", Actor: "alice", Payload: map[string]int{"i": i}}); err != nil {
				t.Fatal(err)
			}
		}
		for _, seq := range []uint64{3, 59} { // a sealed segment, the active one
			before, _ := l.Entry(seq)
			r, err := l.Erase(ctx, seq, "gdpr request 42")
			if err != nil {
				t.Fatal(err)
			}
			e, err := l.Entry(seq)
			if err != nil || !e.Erased || e.Payload != nil || e.Actor != "" || e.LeafHash != before.LeafHash {
				t.Fatalf("after erase: %+v %v", e, err)
			}
			rec, err := l.Entry(r.Seq)
			if err != nil || rec.Kind != EraseKind || rec.Resource != fmt.Sprintf("entry/%d", seq) {
				t.Fatalf("erasure record: %+v %v", rec, err)
			}
			if _, err := l.Erase(ctx, seq, "again"); !errors.Is(err, ErrErased) {
				t.Fatalf("second erase: %v", err)
			}
		}
		// Entries after the erased one still read (the index moved).
		for i := uint64(0); i < l.Size(); i++ {
			if _, err := l.Entry(i); err != nil {
				t.Fatalf("entry %d: %v", i, err)
			}
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		rep, err := verify.Verify(ctx, verify.Dir(dir), verify.Options{Key: k.VerifierKey()})
		if err != nil || !rep.Valid || rep.Erased != 2 {
			t.Fatalf("verify after erase: %v %+v", err, rep)
		}
	}
}

func TestReadOnlyRefreshAndCheckpointAt(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	k := testKey(t)
	w := openTest(t, dir, k)
	defer w.Close()
	if _, err := w.AppendBatch(ctx, []Event{{Kind: "a"}, {Kind: "b"}, {Kind: "c"}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * publishWait)
	r, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Size() != 3 {
		t.Fatalf("reader sees %d entries", r.Size())
	}
	if _, err := w.Append(ctx, Event{Kind: "d"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * publishWait)
	if err := r.Refresh(); err != nil || r.Size() != 4 {
		t.Fatalf("after refresh: %d entries, %v", r.Size(), err)
	}
	if _, err := r.Append(ctx, Event{Kind: "x"}); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("append on a reader: %v", err)
	}
	c, err := r.CheckpointAt(3)
	if err != nil || c.Size != 3 {
		t.Fatal(c, err)
	}
	if _, err := VerifyReceipt(Receipt{Seq: 0, LeafHash: mustEntry(t, r, 0).LeafHash, Checkpoint: string(c.Note), Proof: mustProof(t, r, 0, 3)}, k.VerifierKey()); err != nil {
		t.Fatal(err)
	}
	if _, err := r.CheckpointAt(2); err == nil || !strings.Contains(err.Error(), "next one is at size 3") {
		t.Fatalf("checkpoint inside a batch: %v", err)
	}
}

// publishWait is how long the writer may take to publish its checkpoint.
const publishWait = 150 * time.Millisecond

func mustEntry(t *testing.T, l *Log, seq uint64) Entry {
	e, err := l.Entry(seq)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func mustProof(t *testing.T, l *Log, seq, size uint64) tlog.RecordProof {
	p, err := l.InclusionProof(seq, size)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNoCreateAndKeyPermissions(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "missing"), Options{Key: testKey(t), NoCreate: true})
	if !errors.Is(err, ErrNotLog) && !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("NoCreate on a missing log: %v", err)
	}
	empty := t.TempDir()
	if _, err := Open(empty, Options{Key: testKey(t), NoCreate: true}); !errors.Is(err, ErrNotLog) {
		t.Fatalf("NoCreate on an empty directory: %v", err)
	}
	path := filepath.Join(t.TempDir(), "k")
	if _, err := WriteKeyFiles(path, "perm.example/log"); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o640)
	if _, err := LoadKey(path); !errors.Is(err, ErrKeyPermissions) || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("LoadKey of a group-readable key: %v", err)
	}
	// The .pub file (0644, as it should be) given by mistake is named as
	// such, not as a permissions problem.
	if _, err := LoadKey(path + ".pub"); !errors.Is(err, ErrVerifierKeyGiven) {
		t.Fatalf("LoadKey of the verifier key: %v", err)
	}
}

// TestCloseDrains: Close while appends are in flight; every append that
// returned a receipt is in the log afterwards, the others got ErrClosed.
func TestCloseDrains(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	k := testKey(t)
	l := openTest(t, dir, k)
	var mu sync.Mutex
	var acked []Receipt
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				r, err := l.Append(ctx, Event{Kind: "k"})
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acked = append(acked, r)
				mu.Unlock()
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	l = openTest(t, dir, k)
	defer l.Close()
	for _, r := range acked {
		e, err := l.Entry(r.Seq)
		if err != nil || e.LeafHash != r.LeafHash {
			t.Fatalf("acknowledged entry %d after Close: %v", r.Seq, err)
		}
	}
	if uint64(len(acked)) != l.Size() {
		t.Fatalf("%d appends acknowledged, %d entries in the log", len(acked), l.Size())
	}
}
