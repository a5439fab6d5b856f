package server

import (
	"encoding/binary"
	"reflect"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// memHashes is a tree's stored hashes in memory.
type memHashes []tlog.Hash

func (m memHashes) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		out[i] = m[x]
	}
	return out, nil
}

func TestRangeProofsMatchTlog(t *testing.T) {
	var hs memHashes
	for n := int64(0); n < 1100; n++ {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], uint64(n))
		leaf := tlog.RecordHash(b[:])
		add, err := tlog.StoredHashesForRecordHash(n, leaf, hs)
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, add...)
	}
	for _, c := range []struct{ t, first, n int64 }{
		{1, 0, 1}, {2, 0, 2}, {3, 1, 2}, {7, 0, 7}, {256, 10, 100}, {257, 256, 1}, {1000, 3, 997}, {1100, 700, 300}, {1099, 1, 1},
	} {
		got, err := rangeProofs(c.t, c.first, c.n, hs)
		if err != nil {
			t.Fatal(err)
		}
		for i := range c.n {
			want, err := tlog.ProveRecord(c.t, c.first+i, hs)
			if err != nil {
				t.Fatal(err)
			}
			if len(want) == 0 {
				want = tlog.RecordProof{}
			}
			if !reflect.DeepEqual(got[i], want) {
				t.Fatalf("tree %d, leaf %d: got %v, want %v", c.t, c.first+i, got[i], want)
			}
		}
	}
	if _, err := rangeProofs(10, 5, 6, hs); err == nil {
		t.Error("proofs beyond the tree")
	}
}
