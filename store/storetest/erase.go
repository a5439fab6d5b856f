package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/store"
)

// testErase: a batch with erasure records and their Erasures replaces the
// erased lines and nothing else: leaves, tree and later lines stay; an
// entry already erased is refused with ErrErased and nothing committed.
func testErase(t *testing.T, ctx context.Context, open Opener) {
	s := open(t)
	defer s.Close()
	b := NewBuilder("w")
	all := appendBatches(t, ctx, s, b, 6, 3)
	before := checkLog(t, ctx, s, b.Head(), all)
	// Entry 2 is inside a batch, 5 ends one (its line has a signature).
	for _, seqs := range [][]uint64{{2}, {5, 0}} {
		var es []store.Erasure
		for _, seq := range seqs {
			l, err := s.ReadLine(ctx, seq)
			if err != nil {
				t.Fatal(err)
			}
			e, err := Erased(l)
			if err != nil {
				t.Fatal(err)
			}
			es = append(es, e)
			all[seq] = e.Line[:len(e.Line)-1]
		}
		eb := b.EraseBatch(es...)
		mustAppend(t, ctx, s, eb)
		all = append(all, lines(eb)...)
		v := checkLog(t, ctx, s, b.Head(), all)
		for seq := range before.lines {
			if v.leaves[seq] != before.leaves[seq] {
				t.Fatalf("erasing %v changed the leaf of entry %d", seqs, seq)
			}
		}
		if v.root(9) != before.root(9) {
			t.Fatalf("erasing %v changed the tree of the first 9 entries", seqs)
		}
		for _, seq := range seqs {
			if !v.parsed[seq].Erased {
				t.Fatalf("entry %d is not erased", seq)
			}
		}
	}

	want := b.Head()
	e, err := Erased(store.Line{Seq: 2, Bytes: before.lines[2]})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Append(ctx, b.Clone().EraseBatch(e))
	if !errors.Is(err, store.ErrErased) || isConflict(err) != nil {
		t.Fatalf("erasing entry 2 again: %v, want ErrErased", err)
	}
	checkLog(t, ctx, s, want, all)
}

// testEraseRefused: an Erasure that would change more than the removal of
// the salt and the event, or that names an entry not committed before the
// batch, is refused and nothing of its batch is committed.
func testEraseRefused(t *testing.T, ctx context.Context, open Opener) {
	s := open(t)
	defer s.Close()
	b := NewBuilder("w")
	all := appendBatches(t, ctx, s, b, 6, 3)
	v := checkLog(t, ctx, s, b.Head(), all)
	// erased is the erased line of entry seq, changed by mod.
	erased := func(seq uint64, mod func(*format.Line)) []byte {
		p := v.parsed[seq]
		e := format.Line{Seq: p.Seq, Time: p.Time, Prev: p.Prev, Erased: true, BodyHash: p.ComputeBodyHash(), Sig: bytes.Clone(p.Sig)}
		if mod != nil {
			mod(&e)
		}
		return format.AppendLine(nil, &e)
	}
	one := func(seq uint64, line []byte) []store.Erasure { return []store.Erasure{{Seq: seq, Line: line}} }
	good := store.Erasure{Seq: 2, Line: erased(2, nil)}
	for _, c := range []struct {
		name     string
		erasures []store.Erasure
		isErased bool // wants ErrErased
	}{
		{"body hash changed", one(3, erased(3, func(l *format.Line) { l.BodyHash[0] ^= 1 })), false},
		{"time changed", one(3, erased(3, func(l *format.Line) { l.Time++ })), false},
		{"prev changed", one(3, erased(3, func(l *format.Line) { l.Prev[0] ^= 1 })), false},
		{"another entry's line", one(3, erased(4, nil)), false},
		{"signature removed", one(5, erased(5, func(l *format.Line) { l.Sig = nil })), false},
		{"signature added", one(3, erased(3, func(l *format.Line) { l.Sig = v.parsed[5].Sig })), false},
		{"signature changed", one(5, erased(5, func(l *format.Line) { l.Sig[len(l.Sig)-1] ^= 1 })), false},
		{"not erased", one(3, append(bytes.Clone(all[3]), '\n')), false},
		{"no newline", one(3, bytes.TrimSuffix(erased(3, nil), []byte("\n"))), false},
		{"two lines", one(3, append(erased(3, nil), erased(3, nil)...)), false},
		{"empty", one(3, nil), false},
		{"an entry of the batch", one(9, erased(3, func(l *format.Line) { l.Seq = 9 })), false},
		{"an entry past the log", one(1000, erased(3, func(l *format.Line) { l.Seq = 1000 })), false},
		{"a good one, then a bad one", append(one(2, good.Line), one(3, erased(3, func(l *format.Line) { l.Time-- }))...), false},
		{"one entry twice", []store.Erasure{good, good}, true},
	} {
		want := b.Head()
		_, err := s.Append(ctx, b.Clone().EraseBatch(c.erasures...))
		if err == nil || isConflict(err) != nil || c.isErased != errors.Is(err, store.ErrErased) {
			t.Fatalf("%s: Append: %v; want a refusal (ErrErased: %t)", c.name, err, c.isErased)
		}
		checkLog(t, ctx, s, want, all)
	}
	eb := b.EraseBatch(good)
	mustAppend(t, ctx, s, eb)
	all[2] = good.Line[:len(good.Line)-1]
	checkLog(t, ctx, s, b.Head(), append(all, lines(eb)...))
}

// testSharedErase: two writers erase one entry at once, on two handles;
// exactly one succeeds, the other (after re-sequencing on the conflict)
// gets ErrErased.
func testSharedErase(t *testing.T, ctx context.Context, open Opener) {
	s := [2]store.Store{open(t), open(t)}
	defer s[0].Close()
	defer s[1].Close()
	b := NewBuilder("w")
	all := appendBatches(t, ctx, s[0], b, 6)
	l, err := s[0].ReadLine(ctx, 4)
	if err != nil {
		t.Fatal(err)
	}
	e, err := Erased(l)
	if err != nil {
		t.Fatal(err)
	}
	var ws [2]*Builder
	for i := range ws {
		ws[i] = NewBuilder(fmt.Sprintf("eraser%d", i))
		if err := ws[i].Load(ctx, s[i]); err != nil {
			t.Fatal(err)
		}
	}
	start := make(chan struct{})
	errs := make(chan error, 2)
	for i := range ws {
		go func() {
			<-start
			batch := ws[i].EraseBatch(e)
			for {
				_, err := s[i].Append(ctx, batch)
				if isConflict(err) == nil {
					errs <- err
					return
				}
				if batch, err = ws[i].Retry(ctx, s[i]); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	close(start)
	var ok, erased int
	for range ws {
		switch err := <-errs; {
		case err == nil:
			ok++
		case errors.Is(err, store.ErrErased):
			erased++
		default:
			t.Errorf("erasing entry 4: %v", err)
		}
	}
	if ok != 1 || erased != 1 {
		t.Fatalf("two concurrent erasures of entry 4: %d succeeded, %d got ErrErased; want 1 and 1", ok, erased)
	}
	v, err := readLog(ctx, s[1], head(t, ctx, s[1]))
	if err != nil {
		t.Fatal(err)
	}
	if len(v.lines) != len(all)+1 || !v.parsed[4].Erased {
		t.Fatalf("after the erasures: %d entries (want %d), entry 4 erased %t", len(v.lines), len(all)+1, v.parsed[4].Erased)
	}
}
