// Package storetest is the conformance suite every sealog store backend
// must pass, as golang.org/x/mod/sumdb/storage's test does for its
// backends: a backend's own test calls Run with a function that opens its
// store, and the suite checks the contract of package store — what Sync
// makes durable and visible, reads, hashes, erasure, reopening, and the
// refusal to write after Close.
package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/tree"
)

// Origin and Key are the log identity the suite's batches are signed for.
// Backends that check signatures at open (as the file store does) must be
// created with them.
const Origin = "storetest.example/log"

// Key returns the suite's signer and verifier keys.
func Key() (note.Signer, string) {
	skey, vkey, err := note.GenerateKey(seeded("storetest key"), Origin)
	if err != nil {
		panic(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		panic(err)
	}
	return s, vkey
}

// Opener opens the store under test. Called again with the same t, it
// must reopen the same log (after the previous store was closed).
type Opener func(t *testing.T) store.Store

// Run runs the conformance suite.
func Run(t *testing.T, open func(t *testing.T) Opener) {
	t.Run("Empty", func(t *testing.T) { testEmpty(t, open(t)) })
	t.Run("WriteSyncRead", func(t *testing.T) { testWriteSyncRead(t, open(t)) })
	t.Run("Reopen", func(t *testing.T) { testReopen(t, open(t)) })
	t.Run("Erase", func(t *testing.T) { testErase(t, open(t)) })
	t.Run("Closed", func(t *testing.T) { testClosed(t, open(t)) })
}

func testEmpty(t *testing.T, open Opener) {
	s := open(t)
	defer s.Close()
	if h := s.Head(); h.Size != 0 || h.Checkpoint != nil {
		t.Fatalf("empty store head %+v", h)
	}
	if _, err := s.ReadLine(0, nil); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ReadLine(0) on an empty store: %v, want ErrNotFound", err)
	}
}

func testWriteSyncRead(t *testing.T, open Opener) {
	s := open(t)
	defer s.Close()
	ctx := context.Background()
	b := NewBuilder()
	var all [][]byte
	for _, n := range []int{1, 3, 17, 2} {
		batch := b.Batch(n)
		if err := s.Write(ctx, batch); err != nil {
			t.Fatal(err)
		}
		if s.Head().Size != batch.First {
			t.Fatal("a written batch is visible before Sync")
		}
		size, err := s.Sync(ctx)
		if err != nil || size != batch.First+uint64(n) {
			t.Fatalf("Sync = %d, %v; want %d", size, err, batch.First+uint64(n))
		}
		all = append(all, lines(batch)...)
		h := s.Head()
		if h.Size != size || h.LastLeaf != batch.LastLeaf || h.LastTime != batch.LastTime || !bytes.Equal(h.Checkpoint, batch.Checkpoint) {
			t.Fatalf("head after Sync: %+v", h)
		}
	}
	checkContent(t, s, b, all)
	// A batch that does not continue the log is refused.
	bad := NewBuilder().Batch(1)
	if err := s.Write(ctx, bad); err == nil {
		t.Fatal("Write accepted a batch that does not start at the log's size")
	}
}

func testReopen(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	b := NewBuilder()
	var all [][]byte
	for i := 0; i < 5; i++ {
		batch := b.Batch(4)
		if err := s.Write(ctx, batch); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		all = append(all, lines(batch)...)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t)
	defer s.Close()
	if h := s.Head(); h.Size != 20 || h.LastLeaf != b.last || !bytes.Equal(h.Checkpoint, b.ckpt) {
		t.Fatalf("head after reopening: size %d", h.Size)
	}
	checkContent(t, s, b, all)
	batch := b.Batch(2)
	if err := s.Write(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if size, err := s.Sync(ctx); err != nil || size != 22 {
		t.Fatalf("append after reopening: %d %v", size, err)
	}
}

func testErase(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	defer s.Close()
	b := NewBuilder()
	batch := b.Batch(6)
	if err := s.Write(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	old, _ := s.ReadLine(2, nil)
	l, _ := format.ParseLine(old)
	er := format.Line{Seq: l.Seq, Time: l.Time, Prev: l.Prev, Erased: true, BodyHash: l.ComputeBodyHash(), Sig: l.Sig}
	line := format.AppendLine(nil, &er)
	if err := s.Erase(ctx, 2, line); err != nil {
		t.Fatal(err)
	}
	got, err := s.ReadLine(2, nil)
	if err != nil || !bytes.Equal(got, line[:len(line)-1]) {
		t.Fatalf("entry 2 after Erase: %q, %v", got, err)
	}
	for seq := uint64(3); seq < 6; seq++ {
		got, err := s.ReadLine(seq, nil)
		if err != nil || !bytes.HasPrefix(got, fmt.Appendf(nil, `{"seq":%d,`, seq)) {
			t.Fatalf("entry %d after erasing entry 2: %q, %v", seq, got, err)
		}
	}
	notErased := format.AppendLine(nil, &format.Line{Seq: 3, Time: 1, Erased: true})
	if err := s.Erase(ctx, 3, notErased); err == nil {
		t.Fatal("Erase accepted a line that changes the entry's leaf hash")
	}
}

func testClosed(t *testing.T, open Opener) {
	s := open(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(context.Background(), NewBuilder().Batch(1)); err == nil {
		t.Fatal("Write after Close succeeded")
	}
}

// checkContent compares the store's lines and hashes with what was written.
func checkContent(t *testing.T, s store.Store, b *Builder, all [][]byte) {
	t.Helper()
	for seq, want := range all {
		got, err := s.ReadLine(uint64(seq), nil)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("ReadLine(%d) = %q, %v; want %q", seq, got, err, want)
		}
	}
	var seen int
	err := s.ReadLines(context.Background(), 0, uint64(len(all))+5, func(seq uint64, line []byte) error {
		if seq != uint64(seen) || !bytes.Equal(line, all[seq]) {
			return fmt.Errorf("ReadLines gave entry %d: %q", seq, line)
		}
		seen++
		return nil
	})
	if err != nil || seen != len(all) {
		t.Fatalf("ReadLines: %v (%d of %d entries)", err, seen, len(all))
	}
	n := int64(len(all))
	for i := int64(0); i < tlog.StoredHashCount(n); i++ {
		h, err := s.ReadHashes([]int64{i})
		if err != nil || h[0] != b.stored[i] {
			t.Fatalf("ReadHashes(%d) = %v, %v", i, h, err)
		}
	}
	root, err := tlog.TreeHash(n, s)
	if err != nil || root != b.edge.Root() {
		t.Fatalf("tree hash from the store's hashes: %v", err)
	}
	if _, err := s.ReadHashes([]int64{tlog.StoredHashCount(n)}); err == nil {
		t.Fatal("ReadHashes beyond the committed tree succeeded")
	}
}

func lines(b *store.Batch) [][]byte {
	var out [][]byte
	start := 0
	for _, end := range b.Ends {
		out = append(out, b.Lines[start:end-1])
		start = end
	}
	return out
}

// Builder makes valid, signed batches as the Log would.
type Builder struct {
	signer note.Signer
	edge   tree.Edge
	stored []tlog.Hash
	last   tlog.Hash
	time   int64
	ckpt   []byte
	salt   *seededReader
}

// NewBuilder returns a builder for a new log.
func NewBuilder() *Builder {
	s, _ := Key()
	return &Builder{signer: s, time: 1_800_000_000_000_000_000, salt: seeded("storetest salts")}
}

// Batch returns the next batch of n entries.
func (b *Builder) Batch(n int) *store.Batch {
	batch := &store.Batch{First: b.edge.Size()}
	for i := 0; i < n; i++ {
		var salt [format.SaltSize]byte
		b.salt.Read(salt[:])
		ev, _ := format.AppendEvent(nil, "storetest.event", "actor", fmt.Sprintf("r/%d", b.edge.Size()), []byte(`{"i":1}`))
		l := format.Line{Seq: b.edge.Size(), Time: b.time, Prev: b.last, Salt: salt, Event: ev}
		h := l.Header()
		leaf := h.LeafHash()
		batch.Hashes = b.edge.Append(leaf, batch.Hashes)
		if i == n-1 {
			text := checkpoint.Checkpoint{Origin: Origin, Size: b.edge.Size(), Root: b.edge.Root()}.Text()
			sig, err := checkpoint.SignText(text, b.signer)
			if err != nil {
				panic(err)
			}
			l.Sig = sig
			b.ckpt = checkpoint.Assemble(text, Origin, sig)
		}
		batch.Lines = format.AppendLine(batch.Lines, &l)
		batch.Ends = append(batch.Ends, len(batch.Lines))
		b.last = leaf
		b.time += 1000
	}
	b.stored = append(b.stored, batch.Hashes...)
	batch.Checkpoint, batch.LastLeaf, batch.LastTime = b.ckpt, b.last, b.time-1000
	return batch
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
