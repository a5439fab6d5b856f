package sealog

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/store/memstore"
	"github.com/sealog/sealog/verify"
)

// countingStore counts the hashes read from a store.
type countingStore struct {
	store.Store
	reads atomic.Int64
}

func (c *countingStore) ReadHashes(ctx context.Context, idx []int64) ([]tlog.Hash, error) {
	c.reads.Add(int64(len(idx)))
	return c.Store.ReadHashes(ctx, idx)
}

// TestHashCache: the Log's HashReader gives exactly the store's hashes,
// for recent and old indexes alike; a receipt's proof for an entry just
// appended reads nothing from the store once the tree's older subtrees
// were read once; a hash read from the store is kept.
func TestHashCache(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	k := testKey(t)
	db := memstore.NewDB(store.Metadata{Format: "sealog/v1", Origin: k.Origin(), Key: k.VerifierKey()})
	st := &countingStore{Store: db.Open()}
	l, err := New(ctx, st, Options{Key: k})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	evs := benchEvents(64)
	for i := range 3000 {
		if _, err := l.AppendBatch(ctx, evs[:1+i%7]); err != nil {
			t.Fatal(err)
		}
	}
	size, err := l.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := tlog.StoredHashCount(int64(size.Size))
	// Every index, in chunks shaped like proofs' reads: all equal to the
	// store's.
	direct := db.Open()
	for _, chunk := range [][2]int64{{0, 50}, {n - 200, n}, {n / 2, n/2 + 300}} {
		var idx []int64
		for i := chunk[0]; i < chunk[1]; i++ {
			idx = append(idx, i)
		}
		got, err := l.HashReader(ctx).ReadHashes(idx)
		if err != nil {
			t.Fatal(err)
		}
		want, err := direct.ReadHashes(ctx, idx)
		if err != nil {
			t.Fatal(err)
		}
		for i := range idx {
			if got[i] != want[i] {
				t.Fatalf("hash %d: the cache gives %x, the store %x", idx[i], got[i], want[i])
			}
		}
	}
	// A fresh append's receipt proof: the first costs at most the older
	// subtrees' hashes, the next ones nothing.
	prove := func() int64 {
		before := st.reads.Load()
		rs, err := l.AppendBatch(ctx, evs[:3])
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			if err := l.Prove(ctx, &r); err != nil {
				t.Fatal(err)
			}
			if _, err := verify.VerifyReceipt(r, k.VerifierKey()); err != nil {
				t.Fatal(err)
			}
		}
		return st.reads.Load() - before
	}
	prove()
	for i := range 20 {
		if got := prove(); got != 0 {
			t.Fatalf("receipt %d after the first: its proofs read %d hashes from the store, want 0", i, got)
		}
	}
	// Older hashes are read once, then kept.
	old := []int64{3, 17, 40}
	before := st.reads.Load()
	for range 3 {
		if _, err := l.HashReader(ctx).ReadHashes(old); err != nil {
			t.Fatal(err)
		}
	}
	if got := st.reads.Load() - before; got > int64(len(old)) {
		t.Fatalf("three reads of %d old hashes read %d from the store, want at most %d", len(old), got, len(old))
	}
}
