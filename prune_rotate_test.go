package sealog_test

import (
	"context"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/verify"
)

// TestPruneAcrossRotation: a rotated log is pruned up to its rotation
// record at most (the chain of keys starts there), still opens with the
// new key, goes on, and verifies with either key trusted.
func TestPruneAcrossRotation(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir, k0, vkey0 := prunableLog(t, 60)
	skey1, vkey1 := testkit.Keys("prune-rot1", testkit.Origin)
	k1, err := sealog.ParseKey(skey1)
	if err != nil {
		t.Fatal(err)
	}
	l := openPrunable(t, dir, k0)
	rot, err := l.Rotate(ctx, k1)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 40; i++ {
		if _, err := l.Append(ctx, sealog.Event{Kind: "doc.read", Payload: map[string]any{"i": i, "pad": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}); err != nil {
			t.Fatal(err)
		}
	}
	// A first prune stops short of the rotation record: a reopen with
	// the new key finds the chain from the prune point on.
	first, err := l.Prune(ctx, 30)
	if err != nil || first.Below == 0 || first.Below > 30 {
		t.Fatalf("pruning below 30: %+v %v", first, err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openPrunable(t, dir, k1)
	// Pruning past the rotation record stops at it: it is the link from
	// the log's first key to the new one.
	res, err := l.Prune(ctx, 90)
	if err != nil {
		t.Fatal(err)
	}
	if res.Below <= first.Below || res.Below > rot.Seq {
		t.Fatalf("pruning below 90 pruned below %d; want past %d and at most the rotation record's seq %d", res.Below, first.Below, rot.Seq)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openPrunable(t, dir, k1)
	if _, err := l.Append(ctx, sealog.Event{Kind: "after.reopen"}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		opts verify.Options
	}{
		{"the new key", verify.Options{Key: vkey1}},
		{"both keys", verify.Options{Key: vkey0, Keys: []string{vkey1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := verify.Verify(ctx, verify.Dir(dir), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Valid || rep.Pruned == nil || rep.Pruned.Status != "ok" || rep.Pruned.Below != res.Below {
				t.Fatalf("valid %v verdict %s, pruned %+v, problems %+v", rep.Valid, rep.Verdict, rep.Pruned, rep.Problems)
			}
		})
	}
}
