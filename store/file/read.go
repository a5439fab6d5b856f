//go:build unix

package file

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/store"
)

// hashReader reads stored hashes without checking them against the head,
// for recovery.
type hashReader struct{ s *Store }

func (h hashReader) ReadHashes(idx []int64) ([]tlog.Hash, error) { return h.s.readHashesRaw(idx) }

// ReadHashes returns stored hashes of the committed tree.
func (s *Store) ReadHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
	h, err := s.Head(ctx)
	if err != nil {
		return nil, err
	}
	limit := tlog.StoredHashCount(int64(h.Size))
	for _, i := range indexes {
		if i < 0 || i >= limit {
			return nil, fmt.Errorf("stored hash %d is beyond the committed tree (%d hashes): %w", i, limit, store.ErrNotFound)
		}
	}
	return s.readHashesRaw(indexes)
}

func (s *Store) readHashesRaw(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	if err := s.hashMap.readRecords(indexes, tlog.HashSize, func(i int, b []byte) { copy(out[i][:], b) }); err != nil {
		return nil, err
	}
	return out, nil
}

// leafOf returns the stored leaf hash of entry seq.
func (s *Store) leafOf(seq uint64) (tlog.Hash, error) {
	h, err := s.readHashesRaw([]int64{tlog.StoredHashIndex(0, int64(seq))})
	if err != nil {
		return tlog.Hash{}, err
	}
	return h[0], nil
}

// ReadLine returns committed entry seq.
func (s *Store) ReadLine(ctx context.Context, seq uint64) (store.Line, error) {
	h, err := s.Head(ctx)
	if err != nil {
		return store.Line{}, err
	}
	if seq >= h.Size {
		return store.Line{}, fmt.Errorf("entry %d: %w", seq, store.ErrNotFound)
	}
	if err := s.checkPrunedRead(seq); err != nil {
		return store.Line{}, err
	}
	b, err := s.readLineRaw(seq, nil)
	if err != nil {
		return store.Line{}, err
	}
	leaf, err := s.leafOf(seq)
	if err != nil {
		return store.Line{}, fmt.Errorf("entry %d: %w", seq, err)
	}
	return store.Line{Seq: seq, Leaf: leaf, Bytes: b}, nil
}

// offsetOf returns the byte offset of entry seq within its segment.
func (s *Store) offsetOf(seq uint64) (int64, error) {
	var b [8]byte
	if err := s.indexMap.readAt(b[:], int64(seq)*8); err != nil {
		return 0, err
	}
	return int64(binary.BigEndian.Uint64(b[:])), nil
}

// segmentOf returns the segment holding entry seq.
func (s *Store) segmentOf(seq uint64) (segment, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	i := sort.Search(len(s.segs), func(i int) bool { return s.segs[i].first > seq }) - 1
	if i < 0 {
		return segment{}, fmt.Errorf("entry %d: no segment holds it", seq)
	}
	return s.segs[i], nil
}

func (s *Store) readLineRaw(seq uint64, buf []byte) ([]byte, error) {
	line, sg, err := s.readLineOnce(seq)
	if err == errStale && s.opts.ReadOnly {
		// The writer rewrote the segment (an erasure) since this reader
		// opened it: open it again.
		s.readers.drop(sg.path)
		if err = s.relist(); err == nil {
			line, sg, err = s.readLineOnce(seq)
		}
	}
	if err == errStale {
		err = fmt.Errorf("%w: the index points into the middle of a line in %s", store.ErrCorrupt, sg.path)
	}
	if err != nil {
		return buf, fmt.Errorf("entry %d: %w", seq, err)
	}
	return append(buf, line...), nil
}

// errStale: the line at the index's offset is not the entry wanted.
var errStale = errors.New("stale segment")

func (s *Store) readLineOnce(seq uint64) ([]byte, segment, error) {
	off, err := s.offsetOf(seq)
	if err != nil {
		return nil, segment{}, err
	}
	sg, err := s.segmentOf(seq)
	if err != nil {
		return nil, sg, err
	}
	r, err := s.readers.open(sg, off)
	if errors.Is(err, fs.ErrNotExist) && s.opts.ReadOnly {
		// The writer compressed the segment since we listed it.
		if err = s.relist(); err == nil {
			if sg, err = s.segmentOf(seq); err == nil {
				r, err = s.readers.open(sg, off)
			}
		}
	}
	if err != nil {
		return nil, sg, err
	}
	defer r.Close()
	lr := newLineReader(r, off)
	line, _, complete, err := lr.next()
	if err != nil || !complete {
		return nil, sg, fmt.Errorf("reading %s at %d: %w", sg.path, off, errOr(err, io.ErrUnexpectedEOF))
	}
	if !bytes.HasPrefix(line, seqPrefix(seq)) {
		return nil, sg, errStale
	}
	return line, sg, nil
}

// seqPrefix is how entry seq's line starts.
func seqPrefix(seq uint64) []byte { return fmt.Appendf(nil, `{"seq":%d,`, seq) }

// ReadLines calls fn for each committed entry in [from, to), in order.
func (s *Store) ReadLines(ctx context.Context, from, to uint64, fn func(store.Line) error) error {
	h, err := s.Head(ctx)
	if err != nil {
		return err
	}
	if from < min(to, h.Size) {
		if err := s.checkPrunedRead(from); err != nil {
			return err
		}
	}
	return s.readLines(ctx, from, min(to, h.Size), fn)
}

func (s *Store) readLines(ctx context.Context, from, to uint64, fn func(store.Line) error) error {
	relisted := to // the seq at which the segment list was last re-read
	reopened := to // the seq at which a segment was last opened again
	for seq := from; seq < to; {
		sg, err := s.segmentOf(seq)
		if err != nil {
			return err
		}
		off, err := s.offsetOf(seq)
		if err != nil {
			return err
		}
		r, err := s.readers.open(sg, off)
		if errors.Is(err, fs.ErrNotExist) && s.opts.ReadOnly && relisted != seq {
			relisted = seq
			if err = s.relist(); err == nil {
				continue // look the segment up again
			}
		}
		if err != nil {
			return err
		}
		lr := newLineReader(r, off)
		start := seq
		for seq < to {
			if err := ctx.Err(); err != nil {
				r.Close()
				return err
			}
			line, _, complete, err := lr.next()
			if err == io.EOF {
				break // next segment
			}
			if err != nil || !complete {
				r.Close()
				return fmt.Errorf("entry %d: reading %s: %w", seq, sg.path, errOr(err, io.ErrUnexpectedEOF))
			}
			if seq == start && !bytes.HasPrefix(line, seqPrefix(seq)) {
				if s.opts.ReadOnly && reopened != seq {
					// The writer rewrote the segment (an erasure) since
					// this reader opened it: open it again.
					reopened = seq
					s.readers.drop(sg.path)
					if err := s.relist(); err != nil {
						r.Close()
						return err
					}
					break
				}
				r.Close()
				return fmt.Errorf("entry %d: %w: the index points into the middle of a line in %s", seq, store.ErrCorrupt, sg.path)
			}
			leaf, err := s.leafOf(seq)
			if err != nil {
				r.Close()
				return fmt.Errorf("entry %d: %w", seq, err)
			}
			if err := fn(store.Line{Seq: seq, Leaf: leaf, Bytes: line}); err != nil {
				r.Close()
				return err
			}
			seq++
		}
		r.Close()
		if seq == start && reopened != seq {
			return fmt.Errorf("entry %d: %s ends before it", seq, sg.path)
		}
	}
	return nil
}

// BatchEnd returns the smallest batch end at or after size. It reads the
// lines from entry size-1 on until one carries a signature, so it costs at
// most one batch's lines.
func (s *Store) BatchEnd(ctx context.Context, size uint64) (uint64, error) {
	h, err := s.Head(ctx)
	if err != nil {
		return 0, err
	}
	size = max(size, 1)
	if size > h.Size {
		return 0, fmt.Errorf("no batch ends at or after size %d (the log has %d entries): %w", size, h.Size, store.ErrNotFound)
	}
	if size == h.Size {
		return size, nil // the head is always a batch end
	}
	end := uint64(0)
	found := errors.New("found")
	err = s.readLines(ctx, size-1, h.Size, func(l store.Line) error {
		if ln, err := format.ParseLine(l.Bytes); err == nil && ln.Sig != nil {
			end = l.Seq + 1
			return found
		}
		return nil
	})
	if err == found {
		return end, nil
	}
	if err != nil {
		return 0, err
	}
	return h.Size, nil
}

func errOr(err, def error) error {
	if err != nil {
		return err
	}
	return def
}
