package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/verify"
)

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
