package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/sealog/sealog/store"
)

// testFind checks a store.Finder against what the entries hold: each
// query gives exactly the seqs a scan would, in order, across pages of
// the store's own size, with From and Limit, and never an entry past the
// head. Stores that are not Finders skip it.
func testFind(t *testing.T, ctx context.Context, open Opener) {
	s := open(t)
	f, ok := s.(store.Finder)
	if !ok {
		t.Skip("storetest: the store is not a store.Finder")
	}
	a := NewBuilder("alice")
	// 2,500 entries in batches, so that results span pages of 1,000.
	appendBatches(t, ctx, s, a, 900, 900, 700)
	n := uint64(2500)
	seqs := func(from, to uint64, keep func(uint64) bool) []uint64 {
		var out []uint64
		for i := from; i < to; i++ {
			if keep(i) {
				out = append(out, i)
			}
		}
		return out
	}
	all := func(uint64) bool { return true }
	at := func(i uint64) int64 { return startTime + int64(i)*timeStep }
	cases := []struct {
		name string
		q    store.Query
		want []uint64
	}{
		{"everything", store.Query{}, seqs(0, n, all)},
		{"kind", store.Query{Kind: EventKind}, seqs(0, n, all)},
		{"another kind", store.Query{Kind: "no.such.kind"}, nil},
		{"actor", store.Query{Actor: "alice"}, seqs(0, n, all)},
		{"another actor", store.Query{Actor: "bob"}, nil},
		{"resource", store.Query{Resource: "alice/1234"}, []uint64{1234}},
		{"actor and resource", store.Query{Actor: "alice", Resource: "alice/7"}, []uint64{7}},
		{"from", store.Query{Actor: "alice", From: 2400}, seqs(2400, n, all)},
		{"from past the head", store.Query{From: n + 5}, nil},
		{"limit across a page", store.Query{Kind: EventKind, From: 990, Limit: 20}, seqs(990, 1010, all)},
		{"since", store.Query{Since: at(1500)}, seqs(1500, n, all)},
		{"until", store.Query{Until: at(1001)}, seqs(0, 1001, all)},
		{"since and until", store.Query{Since: at(10), Until: at(2010), Kind: EventKind}, seqs(10, 2010, all)},
		{"an empty time range", store.Query{Since: at(10), Until: at(10)}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []uint64
			if err := f.Find(ctx, tc.q, func(seq uint64) error {
				got = append(got, seq)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("Find(%+v) gave %d seqs %v, want %d %v", tc.q, len(got), brief(got), len(tc.want), brief(tc.want))
			}
		})
	}
	t.Run("callback error", func(t *testing.T) {
		stop := errors.New("enough")
		n := 0
		err := f.Find(ctx, store.Query{}, func(uint64) error {
			if n++; n == 1500 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || n != 1500 {
			t.Fatalf("Find returned %v after %d calls; want the callback's error after 1500", err, n)
		}
	})
}

// brief shows a list of seqs without printing thousands of them.
func brief(s []uint64) string {
	if len(s) <= 6 {
		return fmt.Sprint(s)
	}
	return fmt.Sprintf("[%d %d %d ... %d %d %d]", s[0], s[1], s[2], s[len(s)-3], s[len(s)-2], s[len(s)-1])
}
