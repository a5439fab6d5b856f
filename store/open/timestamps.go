package storeopen

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/verify"
)

var _ verify.TimestampSource = (*storeSource)(nil)

// Timestamps lists the timestamp responses of a store that keeps them
// (store.Timestamps), as a verifier reads them: their sizes first, then,
// as the verifier reads each in ascending size, their bytes, from one more
// pass over the store, so that no more than a page of them is in memory.
// A response gone between the passes cannot be read; one stored between
// them is not listed. A row the store finds corrupt (store.ErrCorrupt)
// ends the list, as damage.
func (s *storeSource) Timestamps() ([]verify.TimestampFile, []string, error) {
	ts, ok := s.st.(store.Timestamps)
	if !ok {
		return nil, nil, nil
	}
	var (
		sizes  []uint64
		damage []string
	)
	err := ts.ReadTimestamps(s.ctx, func(n uint64, _ []byte) error { sizes = append(sizes, n); return nil })
	switch {
	case errors.Is(err, store.ErrCorrupt):
		damage = append(damage, fmt.Sprintf("the timestamps after tree size %d cannot be read: %v", last(sizes), err))
	case err != nil:
		return nil, nil, fmt.Errorf("%s: reading the timestamps: %w", s.name, err)
	}
	r := &tsReader{ctx: s.ctx, ts: ts}
	out := make([]verify.TimestampFile, len(sizes))
	for i, n := range sizes {
		out[i] = verify.TimestampFile{Size: n, Name: fmt.Sprintf("the timestamps row of size %d", n),
			Read: func() ([]byte, error) { return r.read(n, i == len(sizes)-1) }}
	}
	return out, damage, nil
}

func last(s []uint64) uint64 {
	if len(s) == 0 {
		return 0
	}
	return s[len(s)-1]
}

// tsReader reads a store's timestamps in one pass, in the order a
// verifier asks for them (ascending size); a read out of that order
// scans the store for its size.
type tsReader struct {
	ctx  context.Context
	ts   store.Timestamps
	next func() (uint64, []byte, bool)
	stop func()
	err  error // the pass's error, once it ended

	pending bool // held is the next response, read ahead
	held    uint64
	heldTSR []byte
	at      uint64 // the last size read
}

var errStopped = errors.New("stopped")

func (r *tsReader) read(size uint64, last bool) ([]byte, error) {
	if r.next == nil {
		r.next, r.stop = iter.Pull2(func(yield func(uint64, []byte) bool) {
			r.err = r.ts.ReadTimestamps(r.ctx, func(n uint64, b []byte) error {
				if !yield(n, b) {
					return errStopped
				}
				return nil
			})
		})
	}
	if last {
		defer r.stop()
	}
	if size <= r.at && !r.pending || r.pending && size < r.held && size <= r.at {
		return r.scan(size)
	}
	for {
		if !r.pending {
			n, b, ok := r.next()
			if !ok {
				if r.err != nil && !errors.Is(r.err, errStopped) {
					return nil, r.err
				}
				return nil, errors.New("it is gone: removed while the log was read")
			}
			r.pending, r.held, r.heldTSR = true, n, b
		}
		switch {
		case r.held == size:
			r.pending, r.at = false, size
			return r.heldTSR, nil
		case r.held > size:
			return nil, errors.New("it is gone: removed while the log was read")
		}
		r.pending, r.at = false, r.held
	}
}

// scan finds the response for size in a pass of its own.
func (r *tsReader) scan(size uint64) ([]byte, error) {
	var found []byte
	errFound := errors.New("found")
	err := r.ts.ReadTimestamps(r.ctx, func(n uint64, b []byte) error {
		if n == size {
			found = b
			return errFound
		}
		return nil
	})
	switch {
	case errors.Is(err, errFound):
		return found, nil
	case err != nil:
		return nil, err
	}
	return nil, errors.New("it is gone: removed while the log was read")
}
