package sqlrows

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/store"
)

func TestHead(t *testing.T) {
	leaf := bytes.Repeat([]byte{7}, tlog.HashSize)
	for _, c := range []struct {
		name       string
		size, time int64
		leaf, ck   []byte
		corrupt    bool
	}{
		{"empty", 0, 0, nil, nil, false},
		{"committed", 3, 99, leaf, []byte("ck"), false},
		{"negative size", -1, 0, nil, nil, true},
		{"empty with a leaf", 0, 0, leaf, nil, true},
		{"empty with a time", 0, 5, nil, nil, true},
		{"empty with a checkpoint", 0, 0, nil, []byte("ck"), true},
		{"short leaf", 3, 99, leaf[:31], []byte("ck"), true},
		{"long leaf", 3, 99, append(bytes.Clone(leaf), 0), []byte("ck"), true},
		{"no checkpoint", 3, 99, leaf, nil, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			h, err := Head(c.size, c.leaf, c.time, c.ck)
			if c.corrupt {
				if !errors.Is(err, store.ErrCorrupt) {
					t.Fatalf("Head = %+v, %v; want ErrCorrupt", h, err)
				}
				return
			}
			if err != nil || h.Size != uint64(c.size) || h.LastTime != c.time || !bytes.Equal(h.Checkpoint, c.ck) || (c.size > 0 && !bytes.Equal(h.LastLeaf[:], leaf)) {
				t.Fatalf("Head = %+v, %v", h, err)
			}
		})
	}
}

func TestLine(t *testing.T) {
	leaf := bytes.Repeat([]byte{7}, tlog.HashSize)
	l, err := Line(4, leaf, []byte("line"))
	if err != nil || l.Seq != 4 || string(l.Bytes) != "line" || !bytes.Equal(l.Leaf[:], leaf) {
		t.Fatalf("Line = %+v, %v", l, err)
	}
	for name, c := range map[string]struct {
		seq  int64
		leaf []byte
	}{"short leaf": {4, leaf[:5]}, "long leaf": {4, append(bytes.Clone(leaf), 1)}, "no leaf": {4, nil}, "negative seq": {-1, leaf}} {
		if _, err := Line(c.seq, c.leaf, nil); !errors.Is(err, store.ErrCorrupt) {
			t.Errorf("%s: Line err = %v, want ErrCorrupt", name, err)
		}
	}
}

// lineRows makes the rows of entries seqs, for Lines.
func lineRows(seqs ...uint64) []store.Line {
	var ls []store.Line
	for _, s := range seqs {
		ls = append(ls, store.Line{Seq: s, Bytes: fmt.Appendf(nil, "%d", s)})
	}
	return ls
}

func TestLines(t *testing.T) {
	for _, c := range []struct {
		name     string
		from, to uint64
		pages    map[uint64][]store.Line
		want     []uint64
		corrupt  bool
	}{
		{"two pages", 2, 6, map[uint64][]store.Line{2: lineRows(2, 3), 4: lineRows(4, 5)}, []uint64{2, 3, 4, 5}, false},
		{"nothing asked", 3, 3, nil, nil, false},
		{"a gap", 2, 6, map[uint64][]store.Line{2: lineRows(2, 4)}, []uint64{2}, true},
		{"a page short of the head", 2, 6, map[uint64][]store.Line{2: lineRows(2, 3)}, []uint64{2, 3}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []uint64
			err := Lines("test", c.from, c.to, c.to, func(from uint64) ([]store.Line, error) {
				return c.pages[from], nil
			}, func(l store.Line) error {
				got = append(got, l.Seq)
				return nil
			})
			if c.corrupt != errors.Is(err, store.ErrCorrupt) || (!c.corrupt && err != nil) {
				t.Fatalf("Lines err = %v, corrupt wanted: %v", err, c.corrupt)
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Fatalf("Lines gave %v, want %v", got, c.want)
			}
		})
	}
	stop := errors.New("stop")
	err := Lines("test", 0, 2, 2, func(uint64) ([]store.Line, error) { return lineRows(0, 1), nil }, func(store.Line) error { return stop })
	if err != stop {
		t.Fatalf("Lines returned %v, not fn's error", err)
	}
}

func TestHashes(t *testing.T) {
	h := func(b byte) []byte { return bytes.Repeat([]byte{b}, tlog.HashSize) }
	// Entry 1 stores its leaf (index 1) and the level-1 hash over entries
	// 0 and 1 (index 2); entry 3 its leaf, level 1 and level 2.
	found := map[uint64]Stored{
		0: {Leaf: h(1)},
		1: {Leaf: h(2), Nodes: h(3)},
		3: {Leaf: h(4), Nodes: append(h(5), h(6)...)},
	}
	idx := []int64{tlog.StoredHashIndex(0, 0), tlog.StoredHashIndex(1, 0), tlog.StoredHashIndex(0, 3), tlog.StoredHashIndex(2, 0)}
	seqs, err := HashSeqs(idx)
	if err != nil || fmt.Sprint(seqs) != "[0 1 3 3]" {
		t.Fatalf("HashSeqs = %v, %v", seqs, err)
	}
	hs, err := Hashes(idx, found)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range [][]byte{h(1), h(3), h(4), h(6)} {
		if !bytes.Equal(hs[i][:], want) {
			t.Errorf("hash %d = %x, want %x", idx[i], hs[i], want)
		}
	}
	if _, err := Hashes([]int64{tlog.StoredHashIndex(0, 2)}, found); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an entry not found: %v, want ErrNotFound", err)
	}
	if _, err := HashSeqs([]int64{-1}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a negative index: %v, want ErrNotFound", err)
	}
	bad := map[uint64]Stored{
		0: {Leaf: h(1)[:31]},
		1: {Leaf: h(2), Nodes: h(3)[:20]},
		3: {Leaf: h(4), Nodes: append(h(5), 9)}, // 33 bytes: not whole hashes
	}
	for _, i := range []int64{tlog.StoredHashIndex(0, 0), tlog.StoredHashIndex(1, 0), tlog.StoredHashIndex(1, 1)} {
		if _, err := Hashes([]int64{i}, bad); !errors.Is(err, store.ErrCorrupt) {
			t.Errorf("a short stored hash at %d: %v, want ErrCorrupt", i, err)
		}
	}
}

func TestCheckPrune(t *testing.T) {
	ok := store.PruneState{Below: 10, Record: 12}
	if err := CheckPrune(ok, 20, 0, true); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		st        store.PruneState
		size, cur uint64
		ends      bool
	}{
		"below 0":                  {store.PruneState{Below: 0, Record: 1}, 20, 0, true},
		"record before the point":  {store.PruneState{Below: 10, Record: 9}, 20, 0, true},
		"record not committed":     {store.PruneState{Below: 10, Record: 20}, 20, 0, true},
		"pruned there already":     {ok, 20, 10, true},
		"pruned further already":   {ok, 20, 11, true},
		"no batch ends at the cut": {ok, 20, 0, false},
	} {
		if err := CheckPrune(c.st, c.size, c.cur, c.ends); err == nil {
			t.Errorf("%s: CheckPrune accepted it", name)
		}
	}
	if err := PrunedError("test", &store.PruneState{Below: 10}, 9); !errors.Is(err, store.ErrPruned) {
		t.Errorf("PrunedError below the point: %v", err)
	}
	if err := PrunedError("test", &store.PruneState{Below: 10}, 10); err != nil {
		t.Errorf("PrunedError at the point: %v", err)
	}
	if err := PrunedError("test", nil, 0); err != nil {
		t.Errorf("PrunedError of a log never pruned: %v", err)
	}
}
