package server

import (
	"encoding/binary"
	"encoding/json"
	"reflect"
	"slices"
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

// TestRangeTree holds the proof table to tlog for every range of up to
// 9 leaves in every tree of up to 70 leaves, and for a few large ones:
// each proof equals tlog.ProveRecord's and verifies with
// tlog.CheckRecord, the root is tlog.TreeHash's, prev is the leaf before
// the range, and the JSON of each proof is encoding/json's.
func TestRangeTree(t *testing.T) {
	var hs memHashes
	for n := int64(0); n < 2100; n++ {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], uint64(n))
		add, err := tlog.StoredHashesForRecordHash(n, tlog.RecordHash(b[:]), hs)
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, add...)
	}
	type rng struct{ t, lo, n int64 }
	var cases []rng
	for size := int64(1); size <= 70; size++ {
		for lo := int64(0); lo < size; lo++ {
			for n := int64(1); n <= 9 && lo+n <= size; n++ {
				cases = append(cases, rng{size, lo, n})
			}
		}
	}
	cases = append(cases, rng{2048, 0, 2048}, rng{2049, 1, 2048}, rng{2100, 1000, 1000}, rng{2099, 2098, 1}, rng{1025, 1024, 1}, rng{2000, 7, 2})
	for _, c := range cases {
		leaves := make([]tlog.Hash, c.n)
		for i := range leaves {
			leaves[i] = hs[tlog.StoredHashIndex(0, c.lo+int64(i))]
		}
		p, err := newRangeTree(uint64(c.t), uint64(c.lo), leaves, hs)
		if err != nil {
			t.Fatal(err)
		}
		root, err := tlog.TreeHash(c.t, hs)
		if err != nil {
			t.Fatal(err)
		}
		if p.root() != root {
			t.Fatalf("%+v: root %v, want %v", c, p.root(), root)
		}
		var prev tlog.Hash
		if c.lo > 0 {
			prev = hs[tlog.StoredHashIndex(0, c.lo-1)]
		}
		if p.prev != prev {
			t.Fatalf("%+v: prev %v, want %v", c, p.prev, prev)
		}
		for i := range c.n {
			m := c.lo + i
			want, err := tlog.ProveRecord(c.t, m, hs)
			if err != nil {
				t.Fatal(err)
			}
			got := p.proof(nil, uint64(m))
			if !slices.Equal(got, want) || p.proofLen(uint64(m)) != len(want) {
				t.Fatalf("%+v: leaf %d: got %v, want %v", c, m, got, want)
			}
			if err := tlog.CheckRecord(got, c.t, root, m, leaves[i]); err != nil {
				t.Fatalf("%+v: leaf %d: %v", c, m, err)
			}
			if want == nil {
				want = tlog.RecordProof{}
			}
			js, _ := json.Marshal(want)
			if b := p.appendProofJSON(nil, uint64(m)); string(b) != string(js) {
				t.Fatalf("%+v: leaf %d: JSON %s, want %s", c, m, b, js)
			}
		}
	}
	for _, c := range []rng{{10, 5, 6}, {10, 10, 1}, {0, 0, 1}} {
		if _, err := newRangeTree(uint64(c.t), uint64(c.lo), make([]tlog.Hash, c.n), hs); err == nil {
			t.Errorf("%+v: no error for leaves beyond the tree", c)
		}
	}
}
