package sealog

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/internal/commit"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/store/memstore"
)

// seededKey returns a deterministic key for the tests' origin.
func seededKey(t testing.TB, seed string) *Key {
	t.Helper()
	skey, _ := testkit.Keys(seed, testkit.Origin)
	k, err := ParseKey(skey)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func appendN(t testing.TB, l *Log, n int, kind string) {
	t.Helper()
	for i := range n {
		if _, err := l.Append(context.Background(), Event{Kind: kind, Payload: map[string]any{"i": i}}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRotate(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "log")
	k0, k1, k2 := seededKey(t, "rot0"), seededKey(t, "rot1"), seededKey(t, "rot2")
	l := openTest(t, dir, k0)
	appendN(t, l, 5, "a")
	r1, err := l.Rotate(ctx, k1)
	if err != nil {
		t.Fatal(err)
	}
	if r1.Seq != 5 {
		t.Fatalf("rotation record at %d, want 5", r1.Seq)
	}
	// The record's batch is the old key's last checkpoint.
	if _, _, err := checkpoint.Verify([]byte(r1.Checkpoint), k0.Verifier(), testkit.Origin); err != nil {
		t.Fatalf("the rotation record's checkpoint is not signed by the old key: %v", err)
	}
	appendN(t, l, 3, "b")
	if _, err := l.Rotate(ctx, k0); err == nil || !strings.Contains(err.Error(), "each key of the chain must be new") {
		t.Fatalf("rotating back to an old key: %v", err)
	}
	if _, err := l.Rotate(ctx, k2); err != nil {
		t.Fatal(err)
	}
	appendN(t, l, 2, "c")
	if got := l.VerifierKey(); got != k2.VerifierKey() {
		t.Fatalf("VerifierKey = %s, want the newest key", got)
	}
	if _, err := l.Append(ctx, Event{Kind: RotateKind, Payload: map[string]any{}}); err == nil || !strings.Contains(err.Error(), "reserved for key rotations") {
		t.Fatalf("an application event of kind %s: %v", RotateKind, err)
	}
	if _, err := l.Erase(ctx, 5, "no"); err == nil || !strings.Contains(err.Error(), "rotation records cannot be erased") {
		t.Fatalf("erasing a rotation record: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopened, the log finds its chain; the old keys cannot write.
	for i, k := range []*Key{k0, k1} {
		_, err := Open(dir, testOptions(t, k))
		var ke *KeyError
		if !errors.As(err, &ke) || !ke.Rotated || ke.Given != k.VerifierKey() || ke.Current != k2.VerifierKey() || ke.RotatedAt != 9 {
			t.Fatalf("opening with rotated-out key %d: %v (%+v), want a *KeyError: rotated out at 9, the log signed by the newest key", i, err, ke)
		}
	}

	ro, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	want := []KeyEpoch{{VerifierKey: k0.VerifierKey(), From: 1}, {VerifierKey: k1.VerifierKey(), From: 7, Rotation: 5}, {VerifierKey: k2.VerifierKey(), From: 11, Rotation: 9}}
	got := ro.Keys()
	if len(got) != len(want) {
		t.Fatalf("Keys = %+v", got)
	}
	for i := range want {
		if got[i].VerifierKey != want[i].VerifierKey || got[i].From != want[i].From || got[i].Rotation != want[i].Rotation {
			t.Errorf("epoch %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	for e, err := range ro.Entries(ctx, 0, 100) {
		if err != nil {
			t.Fatal(err)
		}
		_ = e
	}
	for _, size := range []uint64{5, 6, 7, 9, 10, 12} {
		if _, err := ro.CheckpointAt(ctx, size); err != nil {
			t.Errorf("CheckpointAt(%d): %v", size, err)
		}
	}
	l2 := openTest(t, dir, k2)
	appendN(t, l2, 1, "d")
	if err := l2.Close(); err != nil {
		t.Fatal(err)
	}
}

// Two writers share one store: once one rotates, the other refuses to
// sign with the old key instead of forking the chain.
func TestRotateSharedStore(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	k0, k1 := seededKey(t, "rot0"), seededKey(t, "rot1")
	db := memstore.NewDB(store.Metadata{Format: "sealog/v1", Origin: testkit.Origin, Key: k0.VerifierKey(), Created: time.Unix(0, 0).UTC()})
	a, err := New(ctx, db.Open(), testOptions(t, k0))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := New(ctx, db.Open(), testOptions(t, k0))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	appendN(t, a, 2, "a")
	appendN(t, b, 2, "b")
	if _, err := a.Rotate(ctx, k1); err != nil {
		t.Fatal(err)
	}
	appendN(t, a, 1, "a")
	_, err = b.Append(ctx, Event{Kind: "b", Payload: map[string]any{}})
	if !errors.Is(err, commit.ErrKeyRotated) {
		t.Fatalf("the other writer's append after the rotation: %v, want ErrKeyRotated", err)
	}
	c, err := New(ctx, db.Open(), testOptions(t, k1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	appendN(t, c, 1, "c")
}

// A rotated log copied without its keys file still opens with its current
// key (which it records again), and still refuses a wrong one.
func TestRotatedWithoutKeysFile(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "log")
	k0, k1, other := seededKey(t, "rot0"), seededKey(t, "rot1"), seededKey(t, "rot-other")
	l := openTest(t, dir, k0)
	appendN(t, l, 3, "a")
	if _, err := l.Rotate(ctx, k1); err != nil {
		t.Fatal(err)
	}
	appendN(t, l, 2, "b")
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "keys")); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, testOptions(t, other)); err == nil || !strings.Contains(err.Error(), "by a key this log does not list") {
		t.Fatalf("a wrong key: %v", err)
	}
	l = openTest(t, dir, k1)
	appendN(t, l, 1, "c")
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "keys")); err != nil || !strings.Contains(string(b), k1.VerifierKey()) {
		t.Fatalf("keys file: %v %q", err, b)
	}
	ro, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	ro.Close()
}

// TestKeyError: opening a log for writing with a key it was never signed
// by fails with a *KeyError that names both keys and is not Rotated.
func TestKeyError(t *testing.T) {
	dir := t.TempDir()
	k := seededKey(t, "this log's")
	l, err := Open(dir, testOptions(t, k))
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	other := seededKey(t, "never this log's")
	_, err = Open(dir, testOptions(t, other))
	var ke *KeyError
	if !errors.As(err, &ke) || ke.Rotated || ke.Given != other.VerifierKey() || ke.Current != k.VerifierKey() {
		t.Fatalf("opening with another key: %v (%+v), want a *KeyError naming both keys", err, ke)
	}
}
