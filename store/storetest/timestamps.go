package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/sealog/sealog/store"
)

// timestamps returns s as store.Timestamps, skipping the test if the
// backend does not implement it.
func timestamps(t *testing.T, s store.Store) store.Timestamps {
	t.Helper()
	ts, ok := s.(store.Timestamps)
	if !ok {
		s.Close()
		t.Skip("storetest: the backend does not implement store.Timestamps")
	}
	return ts
}

// tsr returns distinct bytes standing for a timestamp response for size:
// a store keeps them as untrusted bytes and never parses them.
func tsr(size uint64, variant string, n int) []byte {
	b := fmt.Appendf(nil, "tsr %d %s ", size, variant)
	for len(b) < n {
		b = append(b, byte(len(b)))
	}
	return b[:n]
}

type stamp struct {
	size uint64
	tsr  []byte
}

// readStamps reads every stored timestamp.
func readStamps(t *testing.T, ctx context.Context, ts store.Timestamps) []stamp {
	t.Helper()
	var got []stamp
	if err := ts.ReadTimestamps(ctx, func(size uint64, b []byte) error {
		got = append(got, stamp{size, bytes.Clone(b)})
		return nil
	}); err != nil {
		t.Fatalf("ReadTimestamps: %v", err)
	}
	return got
}

// checkStamps fails the test unless the store holds exactly want, in
// ascending size.
func checkStamps(t *testing.T, ctx context.Context, ts store.Timestamps, want []stamp) {
	t.Helper()
	got := readStamps(t, ctx, ts)
	if len(got) != len(want) {
		t.Fatalf("ReadTimestamps found %d timestamps, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].size != want[i].size || !bytes.Equal(got[i].tsr, want[i].tsr) {
			t.Fatalf("timestamp %d: size %d, %d bytes %.20q; want size %d, %d bytes %.20q", i, got[i].size, len(got[i].tsr), got[i].tsr, want[i].size, len(want[i].tsr), want[i].tsr)
		}
	}
}

// testTimestamps: PutTimestamp keeps the first response for a size and
// refuses a second (ErrTimestampExists), refuses a size past the head, an
// empty or oversized response, and ReadTimestamps gives them back in
// ascending size, as the caller's bytes, after a reopen too.
func testTimestamps(t *testing.T, ctx context.Context, open Opener) {
	s := open(t)
	ts := timestamps(t, s)
	if got := readStamps(t, ctx, ts); len(got) != 0 {
		t.Fatalf("a new log holds %d timestamps", len(got))
	}
	if err := ts.PutTimestamp(ctx, 1, tsr(1, "a", 100)); err == nil || errors.Is(err, store.ErrTimestampExists) {
		t.Fatalf("PutTimestamp(1) on an empty log: %v, want an error (past the head)", err)
	}
	b := NewBuilder("w")
	appendBatches(t, ctx, s, b, 3, 4, 70) // 77 entries: more timestamps than a SQL store's page
	const size = 77

	// Out of order; sizes inside a batch are tree sizes too.
	var want []stamp
	put := func(n uint64, b []byte) {
		t.Helper()
		if err := ts.PutTimestamp(ctx, n, b); err != nil {
			t.Fatalf("PutTimestamp(%d, %d bytes): %v", n, len(b), err)
		}
	}
	for _, n := range []uint64{7, 3, 77, 5} {
		put(n, tsr(n, "first", 200+int(n)))
	}
	mine := tsr(1, "first", store.MaxTimestampSize)
	put(1, mine)    // the largest response allowed
	mine[0] ^= 0xff // the caller's buffer, changed after the call, is not the store's
	for n := uint64(10); n < 76; n++ {
		put(n, tsr(n, "first", 1+int(n)))
	}
	for n := uint64(1); n <= size; n++ {
		switch {
		case n == 1:
			want = append(want, stamp{n, tsr(1, "first", store.MaxTimestampSize)})
		case n == 3 || n == 5 || n == 7 || n == 77:
			want = append(want, stamp{n, tsr(n, "first", 200+int(n))})
		case n >= 10 && n < 76:
			want = append(want, stamp{n, tsr(n, "first", 1+int(n))})
		}
	}
	checkStamps(t, ctx, ts, want)

	// A second response for a size is refused; the first stays.
	for _, n := range []uint64{1, 7, 77} {
		if err := ts.PutTimestamp(ctx, n, tsr(n, "second", 300)); !errors.Is(err, store.ErrTimestampExists) {
			t.Errorf("a second PutTimestamp(%d): %v, want ErrTimestampExists", n, err)
		}
	}
	// Past the head, not a tree size, empty, too large: refused, nothing stored.
	for _, c := range []struct {
		size uint64
		n    int
	}{
		{size + 1, 100}, {size + 1000, 100}, {math.MaxInt64, 100}, {math.MaxUint64, 100}, {0, 100},
		{8, 0}, {8, store.MaxTimestampSize + 1}, {8, 1 << 20},
	} {
		err := ts.PutTimestamp(ctx, c.size, tsr(c.size, "bad", c.n))
		if err == nil || errors.Is(err, store.ErrTimestampExists) {
			t.Errorf("PutTimestamp(%d, %d bytes) on a log of %d: %v, want an error", c.size, c.n, size, err)
		}
	}
	checkStamps(t, ctx, ts, want)

	// The bytes fn gets are the caller's: changing them changes nothing
	// stored.
	if err := ts.ReadTimestamps(ctx, func(_ uint64, b []byte) error {
		for i := range b {
			b[i] = 0
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	checkStamps(t, ctx, ts, want)

	// fn's error stops the read and is returned.
	errStop := errors.New("stop")
	calls := 0
	err := ts.ReadTimestamps(ctx, func(uint64, []byte) error { calls++; return errStop })
	if !errors.Is(err, errStop) || calls != 1 {
		t.Errorf("ReadTimestamps with fn failing at once: %v after %d calls, want the error after 1", err, calls)
	}

	// Durable: a reopened store has them, and still refuses a second.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t)
	defer s.Close()
	ts = timestamps(t, s)
	checkStamps(t, ctx, ts, want)
	if err := ts.PutTimestamp(ctx, 3, tsr(3, "second", 300)); !errors.Is(err, store.ErrTimestampExists) {
		t.Errorf("a second PutTimestamp(3) after a reopen: %v, want ErrTimestampExists", err)
	}
	// A later batch makes room for a later size.
	appendBatches(t, ctx, s, b, 2)
	put(size+2, tsr(size+2, "first", 50))
	checkStamps(t, ctx, ts, append(want, stamp{size + 2, tsr(size+2, "first", 50)}))

	// Cancelled: both fail with the context's error.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := ts.PutTimestamp(cctx, 2, tsr(2, "first", 10)); !errors.Is(err, context.Canceled) {
		t.Errorf("PutTimestamp with a cancelled context: %v, want context.Canceled", err)
	}
	if err := ts.ReadTimestamps(cctx, func(uint64, []byte) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("ReadTimestamps with a cancelled context: %v, want context.Canceled", err)
	}
}

// testSharedTimestamps: handles that store a response for one size at
// once (the writers of a shared log, each with its Timestamper) leave
// exactly one: one PutTimestamp succeeds, the others get
// ErrTimestampExists, and every handle reads the winner's bytes.
func testSharedTimestamps(t *testing.T, ctx context.Context, open Opener) {
	const handles = 4
	ss := make([]store.Timestamps, handles)
	for i := range ss {
		s := open(t)
		defer s.Close()
		ss[i] = timestamps(t, s)
	}
	b := NewBuilder("w")
	appendBatches(t, ctx, ss[0].(store.Store), b, 5)
	for size := uint64(1); size <= 5; size++ {
		var wg sync.WaitGroup
		errs := make([]error, handles)
		for i, ts := range ss {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = ts.PutTimestamp(ctx, size, tsr(size, fmt.Sprint("handle ", i), 100))
			}()
		}
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("size %d: handles %d and %d both stored a timestamp", size, winner, i)
			case err == nil:
				winner = i
			case !errors.Is(err, store.ErrTimestampExists):
				t.Fatalf("size %d: handle %d: %v, want nil or ErrTimestampExists", size, i, err)
			}
		}
		if winner < 0 {
			t.Fatalf("size %d: no handle stored its timestamp", size)
		}
		for i, ts := range ss {
			got := readStamps(t, ctx, ts)
			if len(got) != int(size) || !bytes.Equal(got[size-1].tsr, tsr(size, fmt.Sprint("handle ", winner), 100)) {
				t.Fatalf("size %d: handle %d reads %d timestamps, the last not the winner's (handle %d)", size, i, len(got), winner)
			}
		}
	}
}
