package storetest

import (
	"context"
	"errors"
	"math"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/store"
)

// testPastHead: reads past the committed size find nothing: ErrNotFound
// for entries and batch ends, an error for hashes, no callback (and no
// error) from ReadLines, whose to is capped at the size.
func testPastHead(t *testing.T, ctx context.Context, open Opener) {
	s := open(t)
	defer s.Close()
	b := NewBuilder("w")
	appendBatches(t, ctx, s, b, 3, 4)
	const size = 7
	for _, seq := range []uint64{size, size + 1, 1 << 40, math.MaxUint64} {
		if _, err := s.ReadLine(ctx, seq); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("ReadLine(%d) of a log of %d: %v, want ErrNotFound", seq, size, err)
		}
	}
	for _, n := range []uint64{size + 1, size + 2, math.MaxUint64} {
		if _, err := s.BatchEnd(ctx, n); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("BatchEnd(%d) of a log of %d: %v, want ErrNotFound", n, size, err)
		}
	}
	n := tlog.StoredHashCount(size)
	for _, idx := range []int64{n, n + 1, 1 << 50, math.MaxInt64} {
		if _, err := s.ReadHashes(ctx, []int64{idx}); err == nil {
			t.Errorf("ReadHashes(%d) of a log of %d (%d hashes) succeeded", idx, size, n)
		}
	}
	for _, r := range [][2]uint64{{size, size + 3}, {100, 200}, {math.MaxUint64 - 1, math.MaxUint64}} {
		err := s.ReadLines(ctx, r[0], r[1], func(l store.Line) error {
			return errors.New("a callback")
		})
		if err != nil {
			t.Errorf("ReadLines(%d, %d) of a log of %d: %v, want nil and no callback", r[0], r[1], size, err)
		}
	}
}

// testBatchEnd: BatchEnd(n) is the end of the batch that holds entry n
// (n itself at an end, the first end for 0), ErrNotFound past the last.
func testBatchEnd(t *testing.T, ctx context.Context, open Opener) {
	s := open(t)
	defer s.Close()
	b := NewBuilder("w")
	appendBatches(t, ctx, s, b, 1, 4, 2, 7)
	for _, c := range []struct{ size, want uint64 }{
		{0, 1}, {1, 1},
		{2, 5}, {3, 5}, {4, 5}, {5, 5},
		{6, 7}, {7, 7},
		{8, 14}, {13, 14}, {14, 14},
		{15, 0}, {100, 0},
	} {
		got, err := s.BatchEnd(ctx, c.size)
		if c.want == 0 {
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("BatchEnd(%d) past the last batch = %d, %v; want ErrNotFound", c.size, got, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("BatchEnd(%d) = %d, %v; want %d", c.size, got, err, c.want)
		}
	}
	// Every size up to the head, against the batch ends the lines' signatures give.
	verify(t, ctx, s, b.Head())
}
