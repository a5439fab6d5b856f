package client

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/server"
	"github.com/sealog/sealog/store/file"
	"github.com/sealog/sealog/verify"
)

// nextKey returns a seeded key of the test log's origin.
func nextKey(t *testing.T, seed string) (*sealog.Key, string) {
	t.Helper()
	skey, vkey := testkit.Keys(seed, testkit.Origin)
	k, err := sealog.ParseKey(skey)
	if err != nil {
		t.Fatal(err)
	}
	return k, vkey
}

// serveKey opens the log in dir with key (its current key, after a
// rotation) and makes the proxy send requests to it.
func (b *backend) serveKey(dir string, key *sealog.Key) (*sealog.Log, func()) {
	b.t.Helper()
	saved := b.key
	b.key = key
	defer func() { b.key = saved }()
	return b.serve(dir)
}

// checkReceiptKeys checks that each receipt verifies with the key of the
// chain whose turn its checkpoint's size is in, and with no other.
func checkReceiptKeys(t *testing.T, rs []sealog.Receipt, chain []TrustedKey) {
	t.Helper()
	for _, r := range rs {
		ck, _ := checkpoint.ParseUnverified([]byte(r.Checkpoint))
		ok := 0
		for i, k := range chain {
			last := i+1 == len(chain) || ck.Size <= chain[i+1].Rotation+1
			if _, err := verify.VerifyReceipt(r, k.VerifierKey); err == nil {
				ok++
				if ck.Size < k.From || !last {
					t.Errorf("the receipt of entry %d (size %d) is signed by key %d, out of its turn", r.Seq, ck.Size, i)
				}
			}
		}
		if ok != 1 {
			t.Errorf("the receipt of entry %d verifies with %d keys of the chain, want 1", r.Seq, ok)
		}
	}
}

// The server's log is rotated twice while clients append: a client
// pinned to the first key follows both rotations by itself, and every
// receipt it returned is signed by the key in effect at its size. A client
// given the next key beforehand (MoreKeys) goes on too.
func TestClientFollowsRotationWhileAppending(t *testing.T) {
	b := newBackend(t)
	dir := filepath.Join(t.TempDir(), "log")
	l, _ := b.serve(dir)
	k2, vk2 := nextKey(t, "client-next")
	k3, vk3 := nextKey(t, "client-third")
	ctx := ctxT(t)
	state := filepath.Join(t.TempDir(), "state.json")
	c := b.client(Config{StateFile: state})
	both := b.client(Config{MoreKeys: []string{vk2, vk3}, Rand: testkit.Rand("both")})
	if _, err := c.Append(ctx, sealog.Event{Kind: "before"}); err != nil {
		t.Fatal(err)
	}
	var (
		mu  sync.Mutex
		all []sealog.Receipt
		wg  sync.WaitGroup
	)
	stop := make(chan struct{})
	errs := make(chan error, 8)
	for w := range 4 {
		cl := c
		if w == 3 {
			cl = both
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				r, err := cl.Append(ctx, sealog.Event{Kind: "during", Payload: map[string]int{"w": w, "i": i}})
				if err != nil {
					errs <- err
					return
				}
				if cl == c {
					mu.Lock()
					all = append(all, r)
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	rot2, err := l.Rotate(ctx, k2)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	rot3, err := l.Rotate(ctx, k3)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("an append across the rotation: %v", err)
	}
	if _, _, err := c.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	keys := c.Keys()
	if len(keys) != 3 || keys[1].VerifierKey != vk2 || keys[1].Rotation != rot2.Seq || keys[1].From != rot2.Seq+2 ||
		keys[2].VerifierKey != vk3 || keys[2].Rotation != rot3.Seq {
		t.Fatalf("the chain followed: %+v; rotations at %d and %d", keys, rot2.Seq, rot3.Seq)
	}
	for i, k := range keys[1:] {
		if _, _, err := checkpoint.Verify([]byte(k.Checkpoint), keys[i].v, testkit.Origin); err != nil {
			t.Errorf("key %d: its evidence is not signed by the key before: %v", i+1, err)
		}
	}
	mu.Lock()
	checkReceiptKeys(t, all, keys)
	n := len(all)
	mu.Unlock()
	if n < 3 {
		t.Fatalf("only %d appends during the rotations", n)
	}
	t.Logf("%d appends checked across two rotations", n)
	if _, err := c.Entry(ctx, 0); err != nil {
		t.Fatalf("reading across the rotation: %v", err)
	}
	// The whole log verifies from the first key, as the client followed it.
	l.Close()
	rep, err := verify.Verify(ctx, verify.Dir(dir), verify.Options{Key: b.vkey})
	if err != nil || !rep.Valid || len(rep.Keys) != 3 {
		t.Fatalf("the log after the rotations: %v %+v", err, rep)
	}
	if _, err := New(Config{URL: b.hs.URL, VerifierKey: b.vkey, MoreKeys: []string{"nonsense"}}); err == nil {
		t.Fatal("a malformed MoreKeys entry was accepted")
	}
}

// countReads wraps the backend's handler to count the listings of
// rotation records.
func countReads(b *backend) *atomic.Int32 {
	inner := *b.target.Load()
	var n atomic.Int32
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/entries" && r.URL.Query().Get("kind") == sealog.RotateKind {
			n.Add(1)
		}
		inner.ServeHTTP(w, r)
	})
	b.target.Store(&h)
	return &n
}

// A client restarted from its state file keeps the chain it followed; a
// client whose state predates a rotation made while it was down follows
// it at its first call.
func TestClientRestartedAfterRotation(t *testing.T) {
	b := newBackend(t)
	l, _ := b.serve(filepath.Join(t.TempDir(), "log"))
	k2, vk2 := nextKey(t, "client-next")
	ctx := ctxT(t)
	followed := filepath.Join(t.TempDir(), "followed.json")
	stale := filepath.Join(t.TempDir(), "stale.json")
	c := b.client(Config{StateFile: followed})
	old := b.client(Config{StateFile: stale, Rand: testkit.Rand("old")})
	for _, cl := range []*Client{c, old} {
		if _, err := cl.Append(ctx, sealog.Event{Kind: "before"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Rotate(ctx, k2); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Append(ctx, sealog.Event{Kind: "after"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	var sf stateFile
	raw, _ := os.ReadFile(followed)
	if err := json.Unmarshal(raw, &sf); err != nil || len(sf.Keys) != 2 || sf.Keys[1].VerifierKey != vk2 {
		t.Fatalf("the state file after following: %v %s", err, raw)
	}
	lists := countReads(b)
	c2 := b.client(Config{StateFile: followed, Rand: testkit.Rand("c2")})
	if ks := c2.Keys(); len(ks) != 2 || ks[1].VerifierKey != vk2 {
		t.Fatalf("restarted, the client trusts %+v", ks)
	}
	if _, err := c2.Append(ctx, sealog.Event{Kind: "restarted"}); err != nil {
		t.Fatal(err)
	}
	if n := lists.Load(); n != 0 {
		t.Errorf("restarted from its state, the client looked for rotations %d times", n)
	}
	o2 := b.client(Config{StateFile: stale, Rand: testkit.Rand("o2")})
	if _, err := o2.Append(ctx, sealog.Event{Kind: "stale"}); err != nil {
		t.Fatalf("a client whose state predates the rotation: %v", err)
	}
	if ks := o2.Keys(); len(ks) != 2 || lists.Load() == 0 {
		t.Fatalf("a client whose state predates the rotation trusts %+v after %d listings", ks, lists.Load())
	}
	// A state file whose chain is not the pinned key's is refused.
	if _, err := New(Config{URL: b.hs.URL, VerifierKey: vk2, StateFile: followed}); err == nil {
		t.Fatal("a state file of another chain was accepted")
	}
}

// A client whose token may only append reads the rotation record with
// Config.ReadToken; without one it cannot check the rotation and says
// so, trusting nothing new.
func TestClientFollowsWithReadToken(t *testing.T) {
	b := newBackend(t)
	l, _ := b.serve(filepath.Join(t.TempDir(), "log"))
	appendOnly, _, _ := b.tokens.Add("append-only", server.RoleAppend, testkit.Start)
	readOnly, _, _ := b.tokens.Add("read-only", server.RoleRead, testkit.Start)
	ctx := ctxT(t)
	mk := func(read, seed string) *Client {
		c, err := New(Config{URL: b.hs.URL, Token: appendOnly, ReadToken: read, VerifierKey: b.vkey, Backoff: time.Millisecond, Rand: testkit.Rand(seed)})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	with, without := mk(readOnly, "with"), mk("", "without")
	for _, c := range []*Client{with, without} {
		if _, err := c.Append(ctx, sealog.Event{Kind: "before"}); err != nil {
			t.Fatal(err)
		}
	}
	k2, _ := nextKey(t, "client-next")
	if _, err := l.Rotate(ctx, k2); err != nil {
		t.Fatal(err)
	}
	if _, err := with.Append(ctx, sealog.Event{Kind: "after"}); err != nil || len(with.Keys()) != 2 {
		t.Fatalf("an append-only client with a read token: %v, %d keys", err, len(with.Keys()))
	}
	var ae *APIError
	if _, err := without.Append(ctx, sealog.Event{Kind: "after"}); !errors.As(err, &ae) || ae.Status != 403 || len(without.Keys()) != 1 {
		t.Fatalf("an append-only client without a read token: %v, %d keys", err, len(without.Keys()))
	}
}

// After following a rotation, the client names the log's current key, as
// a *sealog.Log does: an evidence bundle built from it carries that key.
func TestClientVerifierKeyAfterRotation(t *testing.T) {
	b := newBackend(t)
	l, _ := b.serve(filepath.Join(t.TempDir(), "log"))
	c := b.client(Config{})
	ctx := ctxT(t)
	if _, err := c.Append(ctx, sealog.Event{Kind: "before"}); err != nil {
		t.Fatal(err)
	}
	if c.VerifierKey() != b.vkey {
		t.Fatalf("before the rotation: %s", c.VerifierKey())
	}
	k2, vk2 := nextKey(t, "client-next")
	if _, err := l.Rotate(ctx, k2); err != nil {
		t.Fatal(err)
	}
	// The head is the rotation record's own checkpoint, by the old key:
	// nothing to follow yet.
	if _, _, err := c.Checkpoint(ctx); err != nil || c.VerifierKey() != b.vkey {
		t.Fatalf("at the rotation record: %v, %s", err, c.VerifierKey())
	}
	if _, err := l.Append(ctx, sealog.Event{Kind: "after"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if c.VerifierKey() != vk2 || l.VerifierKey() != vk2 {
		t.Fatalf("after the rotation the client names %s, the log %s; want %s", c.VerifierKey(), l.VerifierKey(), vk2)
	}
}

// A client that never saw a log follows its rotation when the entries
// before the rotation record were pruned: it skips the pruned range.
func TestClientFollowsRotationOfPrunedLog(t *testing.T) {
	b := newBackend(t)
	dir := filepath.Join(t.TempDir(), "log")
	opts := sealog.Options{Key: b.key, Rand: testkit.Rand(dir), Clock: testkit.Clock(time.Millisecond), File: file.Options{SegmentSize: 2048}}
	l, err := sealog.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	for i := 0; i < 60; i += 5 {
		evs := make5("old")
		for j := range evs {
			evs[j].Payload = map[string]any{"i": i + j, "pad": strings.Repeat("x", 60)}
		}
		if _, err := l.AppendBatch(ctx, evs); err != nil {
			t.Fatal(err)
		}
	}
	k2, vk2 := nextKey(t, "client-next")
	rot, err := l.Rotate(ctx, k2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.AppendBatch(ctx, make5("new")); err != nil {
		t.Fatal(err)
	}
	pr, err := l.Prune(ctx, 40)
	if err != nil || pr.Below == 0 {
		t.Fatalf("pruning: %+v %v", pr, err)
	}
	srv, err := server.New(ctx, server.Config{Log: l, Tokens: b.tokens, IdempotencyFile: dir + ".idem"})
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = srv
	b.target.Store(&h)
	t.Cleanup(func() { srv.Close(); l.Close() })
	c := b.client(Config{})
	if _, _, err := c.Checkpoint(ctx); err != nil {
		t.Fatalf("following the rotation of a log pruned below %d: %v", pr.Below, err)
	}
	if ks := c.Keys(); len(ks) != 2 || ks[1].VerifierKey != vk2 || ks[1].Rotation != rot.Seq {
		t.Fatalf("the chain followed: %+v", ks)
	}
}

// A client given the next key beforehand (MoreKeys) trusts its
// checkpoints without following the rotation to it; when the log rotates
// again, to a key it was not given, it follows both records from the
// pinned key and goes on, instead of refusing the second record because
// it does not hand over from the pinned key.
func TestClientFollowsPastMoreKeys(t *testing.T) {
	b := newBackend(t)
	l, _ := b.serve(filepath.Join(t.TempDir(), "log"))
	k2, vk2 := nextKey(t, "more-next")
	k3, vk3 := nextKey(t, "more-third")
	ctx := ctxT(t)
	c := b.client(Config{MoreKeys: []string{vk2}, Rand: testkit.Rand("more")})
	if _, err := c.Append(ctx, sealog.Event{Kind: "before"}); err != nil {
		t.Fatal(err)
	}
	rot2, err := l.Rotate(ctx, k2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Append(ctx, sealog.Event{Kind: "signed by the second key"}); err != nil {
		t.Fatal(err)
	}
	if n := len(c.Keys()); n != 1 {
		t.Fatalf("the client followed a rotation to a key of MoreKeys: %d keys", n)
	}
	rot3, err := l.Rotate(ctx, k3)
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Append(ctx, sealog.Event{Kind: "signed by the third key"})
	if err != nil {
		t.Fatalf("an append after a rotation away from a key of MoreKeys: %v", err)
	}
	keys := c.Keys()
	if len(keys) != 3 || keys[1].VerifierKey != vk2 || keys[1].Rotation != rot2.Seq ||
		keys[2].VerifierKey != vk3 || keys[2].Rotation != rot3.Seq {
		t.Fatalf("the chain followed: %+v; rotations at %d and %d", keys, rot2.Seq, rot3.Seq)
	}
	checkReceiptKeys(t, []sealog.Receipt{r}, keys)
}
