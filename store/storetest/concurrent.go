package storetest

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/sealog/sealog/store"
)

// testConcurrentReads: readers loop over Head, ReadLines, ReadHashes and
// BatchEnd while a writer appends; every read is of a consistent prefix:
// the lines up to the head they read chain, with the leaves, hashes and
// signatures the checkpoint commits to. With shared, the readers use a
// second handle.
func testConcurrentReads(t *testing.T, ctx context.Context, open Opener, shared bool) {
	w := open(t)
	defer w.Close()
	r := w
	if shared {
		r = open(t)
		defer r.Close()
	}
	b := NewBuilder("w")
	const readers, batches = 3, 40
	done := make(chan struct{})
	errs := make(chan error, readers+1)
	go func() {
		defer close(done)
		for i := range batches {
			if _, err := w.Append(ctx, b.Batch(1+i%6)); err != nil {
				errs <- fmt.Errorf("writer: %w", err)
				return
			}
			runtime.Gosched()
		}
		errs <- nil
	}()
	reads := make(chan int, readers)
	for range readers {
		go func() {
			n := 0
			defer func() { reads <- n }()
			for {
				select {
				case <-done:
					return
				default:
				}
				if err := readOnce(ctx, r); err != nil {
					errs <- err
					return
				}
				n++
			}
		}()
	}
	total := 0
	for range readers {
		total += <-reads
	}
	<-done // the writer has sent its result
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	t.Logf("%d reads of a consistent prefix while appending", total)
	verify(t, ctx, r, b.Head())
}

// readOnce reads the log at the head it finds and checks it, and reads
// two of its entries again with ReadLine.
func readOnce(ctx context.Context, s store.Store) error {
	h, err := s.Head(ctx)
	if err != nil {
		return err
	}
	v, err := readLog(ctx, s, h)
	if err != nil {
		return fmt.Errorf("reading at a head of %d: %w", h.Size, err)
	}
	if h.Size == 0 {
		return nil
	}
	for _, seq := range []uint64{h.Size / 2, h.Size - 1} {
		l, err := s.ReadLine(ctx, seq)
		if err != nil || l.Seq != seq || l.Leaf != v.leaves[seq] || !bytes.Equal(l.Bytes, v.lines[seq]) {
			return fmt.Errorf("ReadLine(%d) at a head of %d = %d %x %q, %v; ReadLines gave %x %q", seq, h.Size, l.Seq, l.Leaf, l.Bytes, err, v.leaves[seq], v.lines[seq])
		}
	}
	return nil
}
