package commit

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/store/memstore"
)

const origin = testkit.Origin

// fakeSigner signs with a real Ed25519 key unless fail says otherwise.
type fakeSigner struct {
	note.Signer
	fail atomic.Int64 // the next fail signatures fail
}

func (s *fakeSigner) Sign(msg []byte) ([]byte, error) {
	if s.fail.Add(-1) >= 0 {
		return nil, errors.New("injected signing failure")
	}
	s.fail.Store(0)
	return s.Signer.Sign(msg)
}

func newSigner(t testing.TB) (*fakeSigner, note.Verifier, store.Metadata) {
	skey, vkey := testkit.Keys("commit", origin)
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return &fakeSigner{Signer: s}, v, store.Metadata{Format: "sealog/v1", Origin: origin, Key: vkey}
}

// start starts a committer on a new handle of db.
func start(t testing.TB, db *memstore.DB, signer note.Signer, cfg Config) *Committer {
	t.Helper()
	if cfg.Store == nil {
		cfg.Store = db.Open()
	}
	cfg.Origin, cfg.Signer = origin, signer
	if cfg.Clock == nil {
		cfg.Clock = testkit.Clock(time.Microsecond)
	}
	cfg.Logger = testkit.Logger(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Shutdown(context.Background()) })
	return c
}

var evCount atomic.Int64

// events prepares n distinct events.
func events(n int) []Event {
	out := make([]Event, n)
	for i := range out {
		k := evCount.Add(1)
		ev, err := format.AppendEvent(nil, "test.event", "actor", fmt.Sprintf("r/%d", k), []byte(`{}`))
		if err != nil {
			panic(err)
		}
		salt := sha256.Sum256(fmt.Appendf(nil, "salt %d", k))
		copy(out[i].Salt[:], salt[:])
		out[i].Event = ev
		out[i].Body = format.BodyHash(&out[i].Salt, ev)
	}
	return out
}

// appendConcurrently runs callers goroutines that each append each
// single events one at a time, waiting for each, and calls check (from
// those goroutines) with every result.
func appendConcurrently(t *testing.T, c *Committer, callers, each int, check func(Result)) {
	t.Helper()
	var wg sync.WaitGroup
	for g := 0; g < callers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				r, err := submit(t, c, events(1), nil)
				if err != nil {
					t.Error(err)
					return
				}
				check(r)
			}
		}()
	}
	wg.Wait()
}

// submit submits one request and waits for it, with a deadline.
func submit(t testing.TB, c *Committer, evs []Event, erase *store.Erasure) (Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f, err := c.Submit(ctx, evs, erase)
	if err != nil {
		return Result{}, err
	}
	select {
	case <-f.Done():
	case <-ctx.Done():
		t.Fatal("request not answered within 30s")
	}
	return f.Result()
}

// checkLog reads the whole log back as a verifier would: every line
// parses, seqs are dense, the chain links, stored leaves are the lines'
// leaves, every batch signature verifies over the tree at its end, and
// the head's checkpoint is for the root of the whole tree.
func checkLog(t testing.TB, db *memstore.DB, v note.Verifier) uint64 {
	t.Helper()
	ctx := context.Background()
	st := db.Open()
	h, err := st.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var prev tlog.Hash
	var leaves []tlog.Hash
	var lastTime int64
	err = st.ReadLines(ctx, 0, h.Size, func(l store.Line) error {
		ln, err := format.ParseLine(l.Bytes)
		if err != nil {
			return fmt.Errorf("entry %d: %v", l.Seq, err)
		}
		hd := ln.Header()
		switch {
		case ln.Seq != l.Seq:
			return fmt.Errorf("entry %d says seq %d", l.Seq, ln.Seq)
		case ln.Prev != prev:
			return fmt.Errorf("entry %d: chain broken", l.Seq)
		case hd.LeafHash() != l.Leaf:
			return fmt.Errorf("entry %d: stored leaf differs", l.Seq)
		case ln.Time < lastTime:
			return fmt.Errorf("entry %d: time goes back", l.Seq)
		}
		prev, lastTime = l.Leaf, ln.Time
		leaves = append(leaves, l.Leaf)
		if ln.Sig != nil {
			n := int64(l.Seq + 1)
			root, err := tlog.TreeHash(n, store.HashReader(ctx, st))
			if err != nil {
				return err
			}
			text := checkpoint.Checkpoint{Origin: origin, Size: uint64(n), Root: root}.Text()
			if !checkpoint.VerifyText(v, text, ln.Sig) {
				return fmt.Errorf("entry %d: batch signature does not verify", l.Seq)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if h.Size > 0 {
		c, _, err := checkpoint.Open(h.Checkpoint, note.VerifierList(v), origin)
		if err != nil || c.Size != h.Size {
			t.Fatalf("head checkpoint: %v (size %d, head %d)", err, c.Size, h.Size)
		}
		var hashes []tlog.Hash
		for i, l := range leaves {
			hs, err := tlog.StoredHashesForRecordHash(int64(i), l, tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
				out := make([]tlog.Hash, len(idx))
				for j, x := range idx {
					out[j] = hashes[x]
				}
				return out, nil
			}))
			if err != nil {
				t.Fatal(err)
			}
			hashes = append(hashes, hs...)
		}
		idx := make([]int64, len(hashes))
		for i := range idx {
			idx[i] = int64(i)
		}
		stored, err := st.ReadHashes(ctx, idx)
		if err != nil {
			t.Fatal(err)
		}
		for i := range hashes {
			if stored[i] != hashes[i] {
				t.Fatalf("stored hash %d differs from a recomputation", i)
			}
		}
		root, err := tlog.TreeHash(int64(h.Size), store.HashReader(ctx, st))
		if err != nil || root != c.Root {
			t.Fatalf("tree root %v differs from the checkpoint's", err)
		}
	}
	return h.Size
}
