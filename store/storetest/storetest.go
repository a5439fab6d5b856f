// Package storetest is the conformance suite every sealog store backend
// must pass, as golang.org/x/mod/sumdb/storage's test does for its
// backends. A backend's own test calls Run with a function that creates
// an empty log and returns an Opener for it:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, storetest.Options{
//			New: func(t *testing.T, meta store.Metadata) storetest.Opener {
//				db := memstore.NewDB(meta)
//				return func(t *testing.T) store.Store { return db.Open() }
//			},
//		})
//	}
//
// The suite checks the contract of package store: the conditional append
// and its conflicts, reads and stored hashes checked against an
// independent computation, erasures, cancellation, reopening, Close, the
// RFC 3161 timestamps of a backend that implements store.Timestamps, and,
// for backends that several writers may share, concurrent writers on
// separate handles. Its batches come from a Builder, which makes them as
// the Log would, and every check reads the log back as a verifier would.
package storetest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/sealog/sealog/store"
)

// Origin is the origin of the suite's log, and the name of its key.
const Origin = "storetest.example/log"

// keys is the suite's key pair, generated from a fixed seed.
var keys = sync.OnceValues(func() (note.Signer, string) {
	skey, vkey, err := note.GenerateKey(seeded("storetest key"), Origin)
	if err != nil {
		panic(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		panic(err)
	}
	return s, vkey
})

// Key returns the suite's signer and verifier key. Batches are signed
// with it; a backend that checks signatures must be created with it.
func Key() (note.Signer, string) { return keys() }

// verifier returns the suite's verifier.
func verifier() note.Verifier {
	_, vkey := keys()
	v, err := note.NewVerifier(vkey)
	if err != nil {
		panic(err)
	}
	return v
}

// verifiers returns the suite's verifier as note.Verifiers.
func verifiers() note.Verifiers { return note.VerifierList(verifier()) }

// Metadata returns the identity of the suite's logs: Format "sealog/v1",
// Origin, Key's verifier key and a fixed creation time.
func Metadata() store.Metadata {
	_, vkey := keys()
	return store.Metadata{
		Format:  "sealog/v1",
		Origin:  Origin,
		Key:     vkey,
		Created: time.Date(2027, 1, 15, 9, 30, 0, 0, time.UTC),
	}
}

// Opener opens a handle on the log that Options.New created, reporting
// failure with t.Fatal. The suite calls it from the test's goroutine and
// closes every handle it gets. Called again after the handles were
// closed, it reopens the same log. On a backend that is not SingleWriter
// it must also open a handle while others are open, one that sees their
// appends and races them as another process sharing the store would.
type Opener func(t *testing.T) store.Store

// Options describe the backend under test.
type Options struct {
	// New creates an empty log whose Metadata is meta (all four fields:
	// the suite compares them) for test t, in t.TempDir say, and returns
	// an Opener for it. Required.
	New func(t *testing.T, meta store.Metadata) Opener

	// SingleWriter declares that the backend allows one open handle per
	// log at a time, as the file store does (one writing process, which
	// locks the log). The suite then calls the Opener only when no handle
	// is open, and skips the tests of handles that share a log. False: the
	// backend may be shared, and the suite tests it so.
	SingleWriter bool
}

// timeout bounds each test of the suite.
const timeout = time.Minute

// test is one test of the suite.
type test struct {
	name   string
	shared bool // opens two handles on one log at once
	run    func(t *testing.T, ctx context.Context, open Opener)
}

var tests = []test{
	{name: "Empty", run: testEmpty},
	{name: "AppendRead", run: testAppendRead},
	{name: "ReadLinesRanges", run: testReadLinesRanges},
	{name: "Stale", run: testStale},
	{name: "PastHead", run: testPastHead},
	{name: "BatchEnd", run: testBatchEnd},
	{name: "Cancel", run: testCancel},
	{name: "ConcurrentReads", run: func(t *testing.T, ctx context.Context, open Opener) {
		testConcurrentReads(t, ctx, open, false)
	}},
	{name: "Find", run: testFind},
	{name: "Erase", run: testErase},
	{name: "EraseRefused", run: testEraseRefused},
	{name: "Reopen", run: testReopen},
	{name: "Closed", run: testClosed},
	{name: "Timestamps", run: testTimestamps},
	{name: "SharedHead", shared: true, run: testSharedHead},
	{name: "SharedClose", shared: true, run: testSharedClose},
	{name: "SharedReads", shared: true, run: func(t *testing.T, ctx context.Context, open Opener) {
		testConcurrentReads(t, ctx, open, true)
	}},
	{name: "SharedWriters", shared: true, run: testSharedWriters},
	{name: "SharedErase", shared: true, run: testSharedErase},
	{name: "SharedTimestamps", shared: true, run: testSharedTimestamps},
}

// Run runs the conformance suite, each test on a new log.
func Run(t *testing.T, opts Options) {
	if opts.New == nil {
		t.Fatal("storetest: Options.New is required")
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.shared && opts.SingleWriter {
				t.Skip("storetest: the backend declares Options.SingleWriter (one open handle per log), so it cannot be shared by two writers")
			}
			ctx, cancel := context.WithTimeout(t.Context(), timeout)
			defer cancel()
			tc.run(t, ctx, opts.New(t, Metadata()))
		})
	}
}

// seededReader is a deterministic byte stream.
type seededReader struct {
	seed string
	n    int
	buf  []byte
}

func seeded(seed string) *seededReader { return &seededReader{seed: seed} }

func (r *seededReader) Read(p []byte) (int, error) {
	for len(r.buf) < len(p) {
		h := sha256.Sum256(fmt.Appendf(nil, "%s %d", r.seed, r.n))
		r.n++
		r.buf = append(r.buf, h[:]...)
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

func (r *seededReader) clone() *seededReader {
	return &seededReader{seed: r.seed, n: r.n, buf: append([]byte(nil), r.buf...)}
}
