package sealog

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
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
}
