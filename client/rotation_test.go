package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/server"
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

// Forged rotations are refused with a *RotationError, or a
// *ConsistencyError for a rotation on a fork.
func TestClientRefusesForgedRotation(t *testing.T) {
	x, vx := nextKey(t, "client-unrelated")
	tests := []struct {
		name string
		// setup returns the handler that answers the client after it
		// trusted a checkpoint of log a (5 entries, closed, with the
		// first key).
		setup func(t *testing.T, b *backend, a, prefix string) http.Handler
		want  string // in the RotationError's reason; "" for a fork
	}{
		{"an unrelated key signs the log", func(t *testing.T, b *backend, a, prefix string) http.Handler {
			// Another log of the same origin, signed by another key,
			// longer than the one trusted.
			l, _ := b.serveKey(filepath.Join(t.TempDir(), "f"), x)
			if _, err := l.AppendBatch(ctxT(t), append(make5("forged"), make5("forged")...)); err != nil {
				t.Fatal(err)
			}
			return *b.target.Load()
		}, "holds no rotation record"},
		{"a rotation record not in the log", func(t *testing.T, b *backend, a, prefix string) http.Handler {
			// Fork f rotates to x at entry 5; log a has its own batch
			// ending at 6. The server answers with f's record and proof
			// under a's checkpoint of size 6.
			f := filepath.Join(t.TempDir(), "f")
			copyDir(t, a, f)
			lf, _ := b.serve(f)
			if _, err := lf.Rotate(ctxT(t), x); err != nil {
				t.Fatal(err)
			}
			if _, err := lf.Append(ctxT(t), sealog.Event{Kind: "forged"}); err != nil {
				t.Fatal(err)
			}
			hf := *b.target.Load()
			la, _ := b.serve(a)
			if _, err := la.Append(ctxT(t), sealog.Event{Kind: "real"}); err != nil {
				t.Fatal(err)
			}
			ha := *b.target.Load()
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/v1/entries/5" {
					hf.ServeHTTP(w, r)
					return
				}
				fa, fr := httptest.NewRecorder(), httptest.NewRecorder()
				ha.ServeHTTP(fa, r)
				hf.ServeHTTP(fr, r)
				var ea, er map[string]map[string]any
				json.Unmarshal(fa.Body.Bytes(), &ea)
				json.Unmarshal(fr.Body.Bytes(), &er)
				er["inclusion"]["checkpoint"] = ea["inclusion"]["checkpoint"]
				json.NewEncoder(w).Encode(er)
			})
		}, "is not in the tree"},
		{"a rotation record that does not end its batch", func(t *testing.T, b *backend, a, prefix string) http.Handler {
			// A rotated log whose listing of rotation records points
			// at entry 6, an ordinary entry inside a batch.
			f := filepath.Join(t.TempDir(), "f")
			copyDir(t, a, f)
			lf, _ := b.serve(f)
			if _, err := lf.Rotate(ctxT(t), x); err != nil {
				t.Fatal(err)
			}
			if _, err := lf.AppendBatch(ctxT(t), make5("forged")); err != nil {
				t.Fatal(err)
			}
			hf := *b.target.Load()
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/v1/entries" {
					r.URL.RawQuery = "from=6&limit=1"
				}
				hf.ServeHTTP(w, r)
			})
		}, "does not end its batch"},
		{"a rotation on a fork", func(t *testing.T, b *backend, a, prefix string) http.Handler {
			// The log cut back to 4 entries, rewritten, and rotated:
			// the record is genuine in the fork, signed by the first
			// key, but the fork is not the log the client trusts.
			f := filepath.Join(t.TempDir(), "f")
			copyDir(t, prefix, f)
			lf, _ := b.serve(f)
			if _, err := lf.Append(ctxT(t), sealog.Event{Kind: "rewritten"}); err != nil {
				t.Fatal(err)
			}
			if _, err := lf.Rotate(ctxT(t), x); err != nil {
				t.Fatal(err)
			}
			if _, err := lf.Append(ctxT(t), sealog.Event{Kind: "forged"}); err != nil {
				t.Fatal(err)
			}
			return *b.target.Load()
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBackend(t)
			a := filepath.Join(t.TempDir(), "a")
			prefix := filepath.Join(t.TempDir(), "prefix")
			_, stop := b.serve(a)
			c := b.client(Config{StateFile: filepath.Join(t.TempDir(), "state.json")})
			for range 4 {
				if _, err := c.Append(ctxT(t), sealog.Event{Kind: "shared"}); err != nil {
					t.Fatal(err)
				}
			}
			stop()
			copyDir(t, a, prefix)
			_, stop = b.serve(a)
			if _, err := c.Append(ctxT(t), sealog.Event{Kind: "shared"}); err != nil {
				t.Fatal(err)
			}
			stop()
			trusted := c.Trusted()
			h := tt.setup(t, b, a, prefix)
			b.target.Store(&h)
			_, _, err := c.Checkpoint(ctxT(t))
			var re *RotationError
			var ce *ConsistencyError
			switch {
			case tt.want == "" && errors.As(err, &ce):
				checkEvidence(t, b, ce)
			case tt.want == "":
				t.Fatalf("a rotation on a fork: %v, want a *ConsistencyError", err)
			case !errors.As(err, &re) || !strings.Contains(re.Reason, tt.want):
				t.Fatalf("got %v, want a *RotationError saying %q", err, tt.want)
			default:
				if !bytes.Equal(re.Trusted, trusted) || re.NewSize == 0 || len(re.New) == 0 || len(re.Keys) != 1 {
					t.Errorf("the evidence: %+v", re)
				}
			}
			if ks := c.Keys(); len(ks) != 1 || !bytes.Equal(c.Trusted(), trusted) {
				t.Errorf("after a forged rotation the client trusts %d keys and moved its checkpoint", len(ks))
			}
			for _, k := range c.Keys() {
				if k.VerifierKey == vx {
					t.Error("the forged key is trusted")
				}
			}
		})
	}
}

// Revocation statements are honoured: a client does not follow a
// rotation authorised by its key after the key's revocation point, nor
// trust a revoked key's checkpoints beyond it.
func TestClientHonoursRevocations(t *testing.T) {
	rootS, rootV := testkit.Keys("client-root", "test.example/root")
	root, err := note.NewSigner(rootS)
	if err != nil {
		t.Fatal(err)
	}
	revoke := func(vkey string, size uint64) []byte {
		msg, err := note.Sign(&note.Note{Text: string(verify.RevocationText(testkit.Origin, vkey, size, testkit.Start))}, root)
		if err != nil {
			t.Fatal(err)
		}
		return msg
	}
	b := newBackend(t)
	l, _ := b.serve(filepath.Join(t.TempDir(), "log"))
	k2, vk2 := nextKey(t, "client-next")
	ctx := ctxT(t)
	if _, err := l.AppendBatch(ctx, make5("before")); err != nil {
		t.Fatal(err)
	}
	rot, err := l.Rotate(ctx, k2) // at seq 5, checkpoint of size 6
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.AppendBatch(ctx, make5("after")); err != nil {
		t.Fatal(err)
	}
	var re *RotationError
	// The first key revoked at 5: its checkpoint over the rotation (6) is
	// not trusted, so neither is the key it names.
	c := b.client(Config{Revocations: [][]byte{revoke(b.vkey, rot.Seq)}, RevocationKeys: []string{rootV}})
	if _, _, err := c.Checkpoint(ctx); !errors.As(err, &re) || !strings.Contains(re.Reason, "revocation") {
		t.Fatalf("following a rotation signed after its key's revocation: %v", err)
	}
	// Revoked at 6: the rotation stands.
	c = b.client(Config{Revocations: [][]byte{revoke(b.vkey, rot.Seq+1)}, RevocationKeys: []string{rootV}})
	if _, _, err := c.Checkpoint(ctx); err != nil {
		t.Fatalf("a rotation before the revocation point: %v", err)
	}
	// The new key revoked at 8: the head (11) is not trusted.
	c = b.client(Config{Revocations: [][]byte{revoke(vk2, 8)}, RevocationKeys: []string{rootV}})
	if _, _, err := c.Checkpoint(ctx); !errors.As(err, &re) || !strings.Contains(re.Reason, "revoked") {
		t.Fatalf("a checkpoint by a revoked key past its point: %v", err)
	}
	// A statement signed by no key the client honours counts for nothing.
	c = b.client(Config{Revocations: [][]byte{revoke(vk2, 8)}})
	if _, _, err := c.Checkpoint(ctx); err != nil {
		t.Fatalf("an unauthenticated revocation statement was honoured: %v", err)
	}
	if _, err := New(Config{URL: b.hs.URL, VerifierKey: b.vkey, Revocations: [][]byte{[]byte("nonsense")}}); err == nil {
		t.Fatal("a malformed revocation statement was accepted")
	}
}

// A key rotated out signs nothing trusted past its turn: after following
// a rotation at entry 4, a checkpoint of a longer tree signed by the old
// key (a fork made with it) is refused.
func TestClientRefusesKeyOutOfTurn(t *testing.T) {
	b := newBackend(t)
	a, pre := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "pre")
	_, stop := b.serve(a)
	c := b.client(Config{})
	for range 4 {
		if _, err := c.Append(ctxT(t), sealog.Event{Kind: "shared"}); err != nil {
			t.Fatal(err)
		}
	}
	stop()
	copyDir(t, a, pre)
	l, stop := b.serve(a)
	k2, _ := nextKey(t, "client-next")
	if _, err := l.Rotate(ctxT(t), k2); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Append(ctxT(t), sealog.Event{Kind: "after"}); err != nil {
		t.Fatal(err)
	}
	stop()
	lp, _ := b.serve(pre)
	if _, err := lp.AppendBatch(ctxT(t), make5("forked")); err != nil {
		t.Fatal(err)
	}
	var re *RotationError
	if _, _, err := c.Checkpoint(ctxT(t)); !errors.As(err, &re) || !strings.Contains(re.Reason, "whose turn is trees of 0 to 5 entries") || re.NewSize != 9 {
		t.Fatalf("a checkpoint by the old key past its turn: %v", err)
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
