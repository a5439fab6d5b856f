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

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/internal/durable"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/store"
)

// Erasure replaces one line of a sealed segment with its erased form. The
// line gets shorter, so the segment is rewritten (new file, fsync,
// rename) and the index entries after the line are moved. A small journal
// (eraseJournal) is written durably first and removed last, so that a
// crash in between is finished on the next open, never left half done.

const eraseJournal = "erasing.json"

type eraseIntent struct {
	Seq  uint64 `json:"seq"`
	Line []byte `json:"line"` // the erased line, newline included
}

// Erase replaces committed entry seq's line with line, which must be its
// erased form: same seq, time and prev, and the same leaf hash. If the
// entry is in the active segment, the segment is sealed first.
func (s *Store) Erase(ctx context.Context, seq uint64, line []byte) error {
	if s.opts.ReadOnly {
		return ErrReadOnly
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if seq >= s.Head().Size {
		return fmt.Errorf("entry %d: %w", seq, store.ErrNotFound)
	}
	if err := s.checkErasedLine(seq, line); err != nil {
		return err
	}
	s.mu.RLock()
	active := s.segs[len(s.segs)-1]
	s.mu.RUnlock()
	if seq >= active.first {
		if err := s.rotate(s.written.Size); err != nil {
			return s.poison(err)
		}
	}
	ij, _ := json.Marshal(eraseIntent{Seq: seq, Line: line})
	if err := durable.WriteFile(filepath.Join(s.dir, eraseJournal), ij, 0o644); err != nil {
		return err
	}
	if err := s.applyErase(seq, line); err != nil {
		return fmt.Errorf("erasing entry %d: %w (it will be finished when the log is next opened)", seq, err)
	}
	return nil
}

// checkErasedLine makes sure line is entry seq's erased form, with the
// leaf hash the tree holds for it.
func (s *Store) checkErasedLine(seq uint64, line []byte) error {
	if len(line) == 0 || line[len(line)-1] != '\n' {
		return errors.New("erased line must end with a newline")
	}
	l, err := format.ParseLine(line[:len(line)-1])
	if err != nil {
		return err
	}
	if !l.Erased || l.Seq != seq {
		return fmt.Errorf("not the erased form of entry %d", seq)
	}
	h := l.Header()
	stored, err := s.readHashesRaw([]int64{tlog.StoredHashIndex(0, int64(seq))})
	if err != nil {
		return err
	}
	if h.LeafHash() != stored[0] {
		return fmt.Errorf("the erased line of entry %d does not keep its leaf hash", seq)
	}
	return nil
}

// applyErase rewrites the segment holding seq and its index entries, then
// removes the journal. It is idempotent.
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
		if err := durable.WriteFile(plain, data, 0o644); err != nil {
			return err
		}
		if sg.compressed {
			os.Remove(sg.path)
			os.Remove(zidxPath(sg.path))
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
	if err := s.index.Sync(); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(s.dir, eraseJournal)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return durable.SyncDir(s.dir)
}

// finishErase completes an erasure a crash interrupted.
func (s *Store) finishErase() error {
	b, err := os.ReadFile(filepath.Join(s.dir, eraseJournal))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var in eraseIntent
	if err := json.Unmarshal(b, &in); err != nil {
		return fmt.Errorf("%s: %w", eraseJournal, err)
	}
	s.log.Warn("finishing an interrupted erasure", "seq", in.Seq)
	if err := s.checkErasedLine(in.Seq, in.Line); err != nil {
		return fmt.Errorf("%s: %w", eraseJournal, err)
	}
	return s.applyErase(in.Seq, in.Line)
}
