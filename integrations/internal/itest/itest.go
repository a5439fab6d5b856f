// Package itest holds what the integrations' tests share: a real log in
// a temporary directory, opened with seeded keys, clock and salts, and
// its entries read back checked.
package itest

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/internal/testkit"
)

// Open opens a new log in a temporary directory, closed when t ends.
func Open(t testing.TB) (*sealog.Log, string) {
	t.Helper()
	skey, vkey := testkit.Keys(t.Name(), testkit.Origin)
	key, err := sealog.ParseKey(skey)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "log")
	opts := sealog.Options{Key: key, Clock: testkit.Clock(time.Millisecond), Rand: testkit.Rand(t.Name())}
	if _, bench := t.(*testing.B); !bench {
		opts.Logger = testkit.Logger(t)
	}
	l, err := sealog.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, vkey
}

// Entries reads every entry of l back, each checked against the log's
// signed checkpoint.
func Entries(t testing.TB, l *sealog.Log) []sealog.Entry {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out []sealog.Entry
	for e, err := range l.Entries(ctx, 0, ^uint64(0)) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// Payload decodes an entry's payload.
func Payload(t testing.TB, e sealog.Entry) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(e.Payload, &m); err != nil {
		t.Fatalf("entry %d: payload %s: %v", e.Seq, e.Payload, err)
	}
	return m
}

// Context returns a context that ends after a minute, or when t ends.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// Failing is an Appender whose appends all fail with Err.
type Failing struct{ Err error }

// Append fails.
func (f Failing) Append(context.Context, sealog.Event) (sealog.Receipt, error) {
	return sealog.Receipt{}, f.Err
}

// AppendBatch fails.
func (f Failing) AppendBatch(context.Context, []sealog.Event) ([]sealog.Receipt, error) {
	return nil, f.Err
}

// DiscardLogger is a logger that drops everything.
func DiscardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
