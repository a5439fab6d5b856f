package sealog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/store/file"
	"github.com/sealog/sealog/verify"
)

// testKey returns the tests' deterministic key for origin
// "test.example/log".
func testKey(t testing.TB) *Key {
	t.Helper()
	skey, _ := testkit.Keys("log_test", testkit.Origin)
	k, err := ParseKey(skey)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// testOptions are deterministic options: seeded clock and salts.
func testOptions(t testing.TB, k *Key) Options {
	return Options{Key: k, Logger: testkit.Logger(t), Clock: testkit.Clock(time.Millisecond), Rand: testkit.Rand(t.Name())}
}

func openTest(t testing.TB, dir string, k *Key) *Log {
	t.Helper()
	l, err := Open(dir, testOptions(t, k))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// size returns the log's size, failing the test on error.
func size(t testing.TB, l *Log) uint64 {
	t.Helper()
	h, err := l.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return h.Size
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
		if err := l.Prove(ctx, &r); err != nil {
			t.Fatal(err)
		}
		if _, err := verify.VerifyReceipt(r, k.VerifierKey()); err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openTest(t, dir, k)
	defer l.Close()
	if n := size(t, l); n != 10 {
		t.Fatalf("size %d after reopen", n)
	}
	for i := uint64(0); i < 10; i++ {
		e, err := l.Entry(ctx, i)
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
	dir := t.TempDir()
	l := openTest(t, dir, testKey(t))
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
	rep, err := verify.Verify(ctx, verify.Dir(dir), verify.Options{Key: l.VerifierKey()})
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
		opts := testOptions(t, k)
		opts.File = file.Options{SegmentSize: 4096, Compress: compress}
		l, err := Open(dir, opts)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 60; i++ {
			if _, err := l.Append(ctx, Event{Kind: "k", Actor: "alice", Payload: map[string]int{"i": i}}); err != nil {
				t.Fatal(err)
			}
		}
		for _, seq := range []uint64{3, 59} { // a sealed segment, the active one
			before := mustEntry(t, l, seq)
			r, err := l.Erase(ctx, seq, "gdpr request 42")
			if err != nil {
				t.Fatal(err)
			}
			e, err := l.Entry(ctx, seq)
			if err != nil || !e.Erased || e.Payload != nil || e.Actor != "" || e.LeafHash != before.LeafHash {
				t.Fatalf("after erase: %+v %v", e, err)
			}
			rec, err := l.Entry(ctx, r.Seq)
			if err != nil || rec.Kind != EraseKind || rec.Resource != fmt.Sprintf("entry/%d", seq) {
				t.Fatalf("erasure record: %+v %v", rec, err)
			}
			if _, err := l.Erase(ctx, seq, "again"); !errors.Is(err, ErrErased) {
				t.Fatalf("second erase: %v", err)
			}
			if _, err := l.Erase(ctx, r.Seq, "erase the record"); err == nil || !strings.Contains(err.Error(), "cannot be erased") {
				t.Fatalf("erasing an erasure record: %v", err)
			}
		}
		// Applications cannot write what looks like an erasure record.
		if _, err := l.Append(ctx, Event{Kind: EraseKind, Resource: "entry/1", Payload: map[string]any{"seq": 1}}); err == nil || !strings.Contains(err.Error(), "reserved") {
			t.Fatalf("appending an event of kind %s: %v", EraseKind, err)
		}
		// Entries after the erased one still read (the index moved).
		for i := uint64(0); i < size(t, l); i++ {
			if _, err := l.Entry(ctx, i); err != nil {
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

func TestReadOnlyHeadAndCheckpointAt(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	k := testKey(t)
	w := openTest(t, dir, k)
	defer w.Close()
	if _, err := w.AppendBatch(ctx, []Event{{Kind: "a"}, {Kind: "b"}, {Kind: "c"}}); err != nil {
		t.Fatal(err)
	}
	r, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// The reader sees what the writer has published in the checkpoint
	// file, which lags the log by a bounded time.
	testkit.Eventually(t, 10*time.Second, "reader sees 3 entries", func() bool { return size(t, r) == 3 })
	if _, err := w.Append(ctx, Event{Kind: "d"}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 10*time.Second, "reader catches up to 4 entries", func() bool { return size(t, r) == 4 })
	if _, err := r.Append(ctx, Event{Kind: "x"}); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("append on a reader: %v", err)
	}
	c, err := r.CheckpointAt(ctx, 3)
	if err != nil || c.Size != 3 {
		t.Fatal(c, err)
	}
	if _, err := verify.VerifyReceipt(Receipt{Seq: 0, LeafHash: mustEntry(t, r, 0).LeafHash, Checkpoint: string(c.Note), Proof: mustProof(t, r, 0, 3)}, k.VerifierKey()); err != nil {
		t.Fatal(err)
	}
	if _, err := r.CheckpointAt(ctx, 2); err == nil || !strings.Contains(err.Error(), "next one is at size 3") {
		t.Fatalf("checkpoint inside a batch: %v", err)
	}
}

func mustEntry(t *testing.T, l *Log, seq uint64) Entry {
	t.Helper()
	e, err := l.Entry(context.Background(), seq)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func mustProof(t *testing.T, l *Log, seq, size uint64) tlog.RecordProof {
	t.Helper()
	p, err := l.InclusionProof(context.Background(), seq, size)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNoCreateAndKeyPermissions(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "missing"), Options{Key: testKey(t), File: file.Options{NoCreate: true}})
	if !errors.Is(err, ErrNotLog) && !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("NoCreate on a missing log: %v", err)
	}
	empty := t.TempDir()
	if _, err := Open(empty, Options{Key: testKey(t), File: file.Options{NoCreate: true}}); !errors.Is(err, ErrNotLog) {
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
// Close starts only once appends are flowing, so the test cannot pass
// with nothing acknowledged.
func TestCloseDrains(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	k := testKey(t)
	l := openTest(t, dir, k)
	var mu sync.Mutex
	var acked []Receipt
	var inFlight sync.WaitGroup
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		inFlight.Add(1)
		go func() {
			defer wg.Done()
			first := true
			for {
				r, err := l.Append(ctx, Event{Kind: "k"})
				if first {
					first = false
					inFlight.Done()
				}
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
	inFlight.Wait() // every appender has had an answer at least once
	testkit.Eventually(t, 10*time.Second, "appends acknowledged", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(acked) >= 100
	})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if _, err := l.Append(ctx, Event{Kind: "late"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("append after Close: %v", err)
	}
	l = openTest(t, dir, k)
	defer l.Close()
	for _, r := range acked {
		e, err := l.Entry(ctx, r.Seq)
		if err != nil || e.LeafHash != r.LeafHash {
			t.Fatalf("acknowledged entry %d after Close: %v", r.Seq, err)
		}
	}
	if n := size(t, l); uint64(len(acked)) != n {
		t.Fatalf("%d appends acknowledged, %d entries in the log", len(acked), n)
	}
}
