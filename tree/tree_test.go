package tree

import (
	"crypto/sha256"
	"encoding/binary"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// memHashes is a tlog.HashReader over a slice, as tlog's own tests use.
type memHashes []tlog.Hash

func (m memHashes) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		out[i] = m[x]
	}
	return out, nil
}

func leaf(i int) tlog.Hash {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(i))
	return tlog.RecordHash(b[:])
}

// TestEdgeMatchesTlog checks, after every append, that the stored hashes,
// the root and a reloaded edge agree with tlog's own functions.
func TestEdgeMatchesTlog(t *testing.T) {
	var e Edge
	var stored memHashes
	if e.Root() != EmptyRoot || EmptyRoot != tlog.Hash(sha256.Sum256(nil)) {
		t.Fatal("empty root")
	}
	for i := 0; i < 1100; i++ {
		want, err := tlog.StoredHashesForRecordHash(int64(i), leaf(i), stored)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(stored)) != tlog.StoredHashIndex(0, int64(i)) {
			t.Fatalf("leaf %d: stored index %d, want %d", i, len(stored), tlog.StoredHashIndex(0, int64(i)))
		}
		got := e.Append(leaf(i), nil)
		if len(got) != len(want) {
			t.Fatalf("leaf %d: %d stored hashes, want %d", i, len(got), len(want))
		}
		for j := range got {
			if got[j] != want[j] {
				t.Fatalf("leaf %d: stored hash %d differs", i, j)
			}
		}
		stored = append(stored, got...)
		if int64(len(stored)) != tlog.StoredHashCount(int64(i+1)) {
			t.Fatalf("size %d: %d stored, want %d", i+1, len(stored), tlog.StoredHashCount(int64(i+1)))
		}
		root, err := tlog.TreeHash(int64(i+1), stored)
		if err != nil {
			t.Fatal(err)
		}
		if e.Root() != root {
			t.Fatalf("size %d: root differs from tlog.TreeHash", i+1)
		}
		loaded, err := Load(uint64(i+1), stored)
		if err != nil {
			t.Fatal(err)
		}
		if loaded.Root() != root || loaded.Size() != uint64(i+1) {
			t.Fatalf("size %d: loaded edge differs", i+1)
		}
		c := e.Clone()
		if c.Root() != root {
			t.Fatal("clone differs")
		}
	}
}

func TestCopyFromIsIndependent(t *testing.T) {
	var a, b Edge
	for i := 0; i < 5; i++ {
		a.Append(leaf(i), nil)
	}
	b.CopyFrom(&a)
	r := b.Root()
	a.Append(leaf(5), nil)
	if b.Root() != r || b.Size() != 5 {
		t.Fatal("CopyFrom shares memory with its source")
	}
}

func BenchmarkEdgeAppend(b *testing.B) {
	var e Edge
	var buf []tlog.Hash
	h := leaf(1)
	for b.Loop() {
		buf = e.Append(h, buf[:0])
	}
}
