package client

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/sealog/sealog"
)

// forkSetup serves a log of 5 entries, copies it, and appends 5 more
// through c, which then trusts the checkpoint of size 10. It returns the
// copy's directory (a log of 5 entries, a true prefix).
func forkSetup(t *testing.T, b *backend, c *Client) string {
	t.Helper()
	dirA, dirB := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	_, stop := b.serve(dirA)
	for range 5 {
		if _, err := c.Append(ctxT(t), sealog.Event{Kind: "shared"}); err != nil {
			t.Fatal(err)
		}
	}
	stop()
	copyDir(t, dirA, dirB)
	_, stop = b.serve(dirA)
	if _, err := c.AppendBatch(ctxT(t), make5("a")); err != nil {
		t.Fatal(err)
	}
	stop()
	return dirB
}

func make5(kind string) []sealog.Event {
	evs := make([]sealog.Event, 5)
	for i := range evs {
		evs[i] = sealog.Event{Kind: kind}
	}
	return evs
}

func TestRollbackDetected(t *testing.T) {
	b := newBackend(t)
	state := filepath.Join(t.TempDir(), "state.json")
	c := b.client(Config{StateFile: state})
	dirB := forkSetup(t, b, c)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	b.serve(dirB) // the log cut back to 5 entries
	var ce *ConsistencyError
	_, _, err := c.Checkpoint(ctxT(t))
	if !errors.As(err, &ce) || !ce.Rollback || ce.OldSize != 10 || ce.NewSize != 5 {
		t.Fatalf("the latest checkpoint after a rollback: %v", err)
	}
	checkEvidence(t, b, ce)
	if _, err := c.Append(ctxT(t), sealog.Event{Kind: "after"}); !errors.As(err, &ce) || !ce.Rollback {
		t.Fatalf("an append after a rollback: %v", err)
	}
	checkEvidence(t, b, ce)
	// A new client that kept the state in a file sees it too.
	c2 := b.client(Config{StateFile: state})
	if _, _, err := c2.Checkpoint(ctxT(t)); !errors.As(err, &ce) {
		t.Fatalf("a client restarted from its state file: %v", err)
	}
}

func TestForkDetected(t *testing.T) {
	b := newBackend(t)
	c := b.client(Config{})
	dirB := forkSetup(t, b, c)
	l, _ := b.serve(dirB)
	if _, err := l.AppendBatch(ctxT(t), make5("b")); err != nil { // other entries 5..9
		t.Fatal(err)
	}
	var ce *ConsistencyError
	_, _, err := c.Checkpoint(ctxT(t))
	if !errors.As(err, &ce) || ce.Rollback || ce.OldSize != 10 || ce.NewSize != 10 {
		t.Fatalf("a fork of the same size: %v", err)
	}
	checkEvidence(t, b, ce)
	_, err = c.Append(ctxT(t), sealog.Event{Kind: "after"})
	if !errors.As(err, &ce) || ce.Rollback || ce.NewSize != 11 || ce.Proof == nil {
		t.Fatalf("an append to a forked log: %v", err)
	}
	checkEvidence(t, b, ce)
	if _, err := c.Entry(ctxT(t), 7); !errors.As(err, &ce) {
		t.Fatalf("reading from a forked log: %v", err)
	}
}
