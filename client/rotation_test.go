package client

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/internal/testkit"
)

// The server's log is rotated while a client runs: a client given the new
// key beforehand (MoreKeys) goes on, checking consistency across the
// rotation; one pinned to the old key alone refuses the new checkpoints.
func TestClientAcrossRotation(t *testing.T) {
	b := newBackend(t)
	l, _ := b.serve(filepath.Join(t.TempDir(), "log"))
	skey, vkey := testkit.Keys("client-next", testkit.Origin)
	next, err := sealog.ParseKey(skey)
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	both := b.client(Config{MoreKeys: []string{vkey}})
	old := b.client(Config{})
	for _, c := range []*Client{both, old} {
		if _, err := c.Append(ctx, sealog.Event{Kind: "before"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.Rotate(ctx, next); err != nil {
		t.Fatal(err)
	}
	if _, err := both.Append(ctx, sealog.Event{Kind: "after"}); err != nil {
		t.Fatalf("a client given the new key: %v", err)
	}
	if _, err := both.Entry(ctx, 0); err != nil {
		t.Fatalf("reading across the rotation: %v", err)
	}
	if _, err := old.Append(ctx, sealog.Event{Kind: "after"}); err == nil || !strings.Contains(err.Error(), "pinned key") {
		t.Fatalf("a client pinned to the old key only: %v", err)
	}
	if _, err := New(Config{URL: b.hs.URL, VerifierKey: b.vkey, MoreKeys: []string{"nonsense"}}); err == nil {
		t.Fatal("a malformed MoreKeys entry was accepted")
	}
}
