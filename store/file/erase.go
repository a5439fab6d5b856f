//go:build unix

package file

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/sealog/sealog/internal/durable"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/store"
)

// Erasure replaces one line of a sealed segment with its erased form. The
// line gets shorter, so the segment is rewritten (new file, fsync,
// rename) and the index entries after the line are moved. Erasures come
// with the batch that records them (store.Batch.Erasures): a journal
// (eraseJournal) naming them and the size after that batch is written
// durably before the batch, and removed once every erasure is applied. On
// open, a journal whose batch committed is finished; one whose batch
// never committed is dropped. So an erasure happens if and only if its
// record is in the log, and never half.

const eraseJournal = "erasing.json"

type eraseJournalFile struct {
	// After is the log's size once the batch holding the erasure records
	// is committed; 0 in journals from before erasures came with batches.
	After    uint64        `json:"after,omitempty"`
	Erasures []eraseIntent `json:"erasures,omitempty"`
	// Seq and Line: the single erasure of an older journal.
	Seq  uint64 `json:"seq,omitempty"`
	Line []byte `json:"line,omitempty"`
}

type eraseIntent struct {
	Seq  uint64 `json:"seq"`
	Line []byte `json:"line"` // the erased line, newline included
}

// prepareErase checks b's erasures against the stored lines and writes
// the journal. The caller holds writeMu.
func (s *Store) prepareErase(ctx context.Context, b *store.Batch) error {
	j := eraseJournalFile{After: b.Size()}
	seen := map[uint64]bool{}
	for _, e := range b.Erasures {
		if e.Seq >= b.First {
			return fmt.Errorf("erasure of entry %d: %w (the log has %d entries)", e.Seq, store.ErrNotFound, b.First)
		}
		if seen[e.Seq] {
			return fmt.Errorf("entry %d: %w (named twice in one batch)", e.Seq, store.ErrErased)
		}
		seen[e.Seq] = true
		stored, err := s.ReadLine(ctx, e.Seq)
		if err != nil {
			return err
		}
		if err := store.CheckErasure(stored, e); err != nil {
			return err
		}
		j.Erasures = append(j.Erasures, eraseIntent{Seq: e.Seq, Line: e.Line})
	}
	ij, err := json.Marshal(j)
	if err != nil {
		return err
	}
	return durable.WriteFile(filepath.Join(s.dir, eraseJournal), ij, 0o644)
}

// applyErase rewrites the segment holding seq and its index entries. It
// is idempotent.
func (s *Store) applyErase(seq uint64, line []byte) error {
	s.rewrite.Lock()
	defer s.rewrite.Unlock()
	sg, err := s.segmentOf(seq)
	if err != nil {
		return err
	}
	rc, err := openSegment(sg)
	if err != nil {
		return err
	}
	data, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return err
	}
	// Find the line by scanning: the index may be the thing a crash left
	// out of date.
	var offs []int64
	start, at := int64(0), -1
	for start < int64(len(data)) {
		i := bytes.IndexByte(data[start:], '\n')
		if i < 0 {
			return fmt.Errorf("%s ends in a partial line", sg.path)
		}
		if bytes.HasPrefix(data[start:], fmt.Appendf(nil, `{"seq":%d,`, seq)) {
			at = len(offs)
		}
		offs = append(offs, start)
		start += int64(i) + 1
	}
	if at < 0 {
		return fmt.Errorf("entry %d is not in %s", seq, sg.path)
	}
	end := int64(len(data))
	if at+1 < len(offs) {
		end = offs[at+1]
	}
	if !bytes.Equal(data[offs[at]:end], line) {
		data = append(append(append([]byte(nil), data[:offs[at]]...), line...), data[end:]...)
		plain := filepath.Join(filepath.Dir(sg.path), layout.SegmentName(sg.first, false))
		if sg.compressed {
			// The frame index goes first: a compressed copy without one
			// beside a plain file is an unfinished compression, which
			// the next open drops, so a crash in between leaves the
			// rewritten plain file (or the journal redoes the erasure).
			if err := os.Remove(zidxPath(sg.path)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			if err := durable.SyncDir(filepath.Dir(plain)); err != nil {
				return err
			}
		}
		if err := durable.WriteFile(plain, data, 0o644); err != nil {
			return err
		}
		if sg.compressed {
			os.Remove(sg.path)
			if err := durable.SyncDir(filepath.Dir(plain)); err != nil {
				return err
			}
			s.mu.Lock()
			for i := range s.segs {
				if s.segs[i].first == sg.first {
					s.segs[i].path, s.segs[i].compressed = plain, false
				}
			}
			s.mu.Unlock()
			if s.comp != nil {
				s.comp.enqueue(sg.first)
			}
		}
		s.readers.drop(sg.path)
		s.readers.drop(plain)
		// Recompute the offsets of the lines after it.
		delta := int64(len(line)) - (end - offs[at])
		for i := at + 1; i < len(offs); i++ {
			offs[i] += delta
		}
	}
	ib := make([]byte, 8*len(offs))
	for i, o := range offs {
		binary.BigEndian.PutUint64(ib[8*i:], uint64(o))
	}
	if _, err := s.index.Fd().WriteAt(ib, int64(sg.first)*8); err != nil {
		return err
	}
	return s.index.Sync()
}

// finishErase applies the erasures of the journal if their batch is
// committed, drops the journal if not, and removes it. It runs after an
// Append with erasures and when a log is opened for writing; the caller
// holds writeMu (or is opening the store).
func (s *Store) finishErase() error {
	path := filepath.Join(s.dir, eraseJournal)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var j eraseJournalFile
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("%s: %w", eraseJournal, err)
	}
	if j.Line != nil {
		j.Erasures = append(j.Erasures, eraseIntent{Seq: j.Seq, Line: j.Line})
	}
	s.mu.RLock()
	size := s.head.Size
	s.mu.RUnlock()
	if j.After > size {
		s.log.Warn("dropping the journal of an erasure whose record was never committed", "size", size, "after", j.After)
		if err := os.Remove(path); err != nil {
			return err
		}
		return durable.SyncDir(s.dir)
	}
	// Only sealed segments are rewritten: seal the active one if it holds
	// an entry to erase.
	s.mu.RLock()
	active := s.segs[len(s.segs)-1].first
	s.mu.RUnlock()
	for _, e := range j.Erasures {
		if e.Seq >= active {
			if err := s.rotate(size); err != nil {
				return err
			}
			break
		}
	}
	for _, e := range j.Erasures {
		stored, err := s.ReadLine(context.Background(), e.Seq)
		if err != nil {
			return fmt.Errorf("%s: %w", eraseJournal, err)
		}
		if bytes.Equal(append(stored.Bytes, '\n'), e.Line) {
			continue // applied before a crash
		}
		if err := store.CheckErasure(stored, store.Erasure{Seq: e.Seq, Line: e.Line}); err != nil {
			return fmt.Errorf("%s: %w", eraseJournal, err)
		}
		if err := s.applyErase(e.Seq, e.Line); err != nil {
			return fmt.Errorf("erasing entry %d: %w", e.Seq, err)
		}
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return durable.SyncDir(s.dir)
}
