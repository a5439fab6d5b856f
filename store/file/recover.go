//go:build unix

package file

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/internal/durable"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/tree"
)

// recover brings the log to a consistent state after any shutdown, clean
// or not, and opens the active segment for appending. It is the normal
// open path: a clean log is simply a log with nothing to cut.
func (s *Store) recover() error {
	if len(s.segs) == 0 {
		if err := s.newSegment(0); err != nil {
			return err
		}
		if err := s.truncateDerived(0); err != nil {
			return err
		}
		return s.checkCheckpointFile()
	}
	if s.pruned != nil {
		// A prune that wrote pruned.json may have been cut short before
		// its segments were deleted.
		if err := s.deletePruned(); err != nil {
			return err
		}
	}
	sc := &scanner{origin: s.meta.Origin}
	last := len(s.segs) - 1
	from := last
	if t0 := s.segs[last].first; t0 > 0 {
		err := s.loadState(sc, t0)
		if err != nil {
			s.log.Warn("rebuilding the index and hashes files from all segments", "reason", err)
			sc = &scanner{origin: s.meta.Origin}
			from = 0
			if s.pruned != nil {
				if err := s.prunedStart(sc); err != nil {
					return err
				}
			}
		}
	}
	for i := from; i <= last; i++ {
		sg := s.segs[i]
		if sg.first != sc.next {
			return fmt.Errorf("%s: %w: segment %s starts at seq %d, want %d", s.dir, store.ErrCorrupt, filepath.Base(sg.path), sg.first, sc.next)
		}
		if err := s.truncateDerived(sg.first); err != nil {
			return err
		}
		sc.startSegment()
		active := i == last && !sg.compressed
		if err := s.scanSegment(sc, sg, active); err != nil {
			return err
		}
		if err := s.writeDerived(sc); err != nil {
			return err
		}
	}
	if err := s.index.Sync(); err != nil {
		return err
	}
	if err := s.hashes.Sync(); err != nil {
		return err
	}
	if s.segs[last].compressed {
		// The active segment was removed after its predecessor was
		// compressed; the checkpoint check below tells whether it held
		// anything.
		if err := s.newSegment(sc.next); err != nil {
			return err
		}
	}
	ck, err := s.checkpointAt(sc)
	if err != nil {
		return err
	}
	s.head = store.Head{Size: sc.next, LastLeaf: sc.last, LastTime: sc.time, Checkpoint: ck}
	return s.checkCheckpointFile()
}

// loadState sets the scanner to the state after entry t0-1, from the
// derived files, which were made durable when that entry's segment was
// sealed.
func (s *Store) loadState(sc *scanner, t0 uint64) error {
	if err := s.checkDerived(t0); err != nil {
		return err
	}
	if s.pruned != nil && t0 == s.pruned.Below {
		return s.prunedStart(sc) // entry t0-1 is gone; pruned.json holds its link and tree
	}
	edge, err := tree.Load(t0, hashReader{s})
	if err != nil {
		return err
	}
	h, err := s.readHashesRaw([]int64{tlog.StoredHashIndex(0, int64(t0-1))})
	if err != nil {
		return err
	}
	line, err := s.readLineRaw(t0-1, nil)
	if err != nil {
		return err
	}
	l, err := format.ParseLine(line)
	if err != nil {
		return fmt.Errorf("entry %d: %w", t0-1, err)
	}
	if hd := l.Header(); hd.LeafHash() != h[0] || l.Seq != t0-1 {
		return fmt.Errorf("entry %d does not match its stored leaf hash", t0-1)
	}
	sc.next, sc.edge, sc.last, sc.time = t0, edge, h[0], l.Time
	return nil
}

// scanSegment replays one segment. A sealed segment must be whole and end
// with a signed batch. The active one is cut after its last signed batch.
func (s *Store) scanSegment(sc *scanner, sg segment, active bool) error {
	name := filepath.Base(sg.path)
	rc, err := openSegment(sg)
	if err != nil {
		return err
	}
	defer rc.Close()
	lr := newLineReader(rc, 0)
	var stop int64 = -1 // offset of the first line not folded in
	var bad error
	lineNo := 0
	for {
		line, off, complete, err := lr.next()
		if err == io.EOF {
			break
		}
		lineNo++
		if err != nil {
			if !active {
				return fmt.Errorf("%s: %w", name, err)
			}
			stop, bad = off, err
			break
		}
		if !complete || isTorn(line) {
			stop = off
			break
		}
		if err := sc.add(line, off); err != nil {
			stop, bad = off, fmt.Errorf("%s line %d: %w", name, lineNo, err)
			break
		}
	}
	if !active {
		if stop >= 0 || bad != nil {
			return fmt.Errorf("%s: %w: sealed segment %s is damaged at byte %d: %v", s.dir, store.ErrCorrupt, name, stop, bad)
		}
		if sc.signed.next != sc.next {
			return fmt.Errorf("%s: %w: sealed segment %s does not end with a signed batch", s.dir, store.ErrCorrupt, name)
		}
		return s.checkSigned(sc, name)
	}

	size, err := fileSize(sg.path)
	if err != nil {
		return err
	}
	if bad != nil && s.signedAfter(sg.path, stop) {
		return fmt.Errorf("%s: %w: %v, and signed (acknowledged) entries follow it; run `sealog verify %s`", s.dir, store.ErrCorrupt, bad, s.dir)
	}
	if err := s.checkSigned(sc, name); err != nil {
		return err
	}
	unsigned := sc.next - sc.signed.next
	cut := sc.signed.end
	sc.restore(&sc.signed)
	if cut < size {
		kept, err := s.cutTail(sg.path, cut, size)
		if err != nil {
			return err
		}
		if kept == "" {
			s.log.Debug("trimmed preallocated space", "segment", name, "bytes", size-cut)
		} else {
			s.log.Warn("recovery cut the end of the active segment: a write the crash interrupted, never acknowledged",
				"segment", name, "offset", cut, "bytes", size-cut, "unacknowledged_entries", unsigned,
				"damaged_line", errString(bad), "copy", kept)
		}
	}
	f, err := durable.OpenFile(sg.path, cut, 0o644)
	if err != nil {
		return err
	}
	s.seg = f
	return nil
}

// checkSigned verifies the newest signature found in a segment.
func (s *Store) checkSigned(sc *scanner, name string) error {
	p := &sc.signed
	if p.sig == nil {
		return nil
	}
	if !checkpoint.VerifyText(s.verifier, p.text(s.meta.Origin), p.sig) {
		return fmt.Errorf("%s: %w: the signature on entry %d in %s does not verify with the log's key; run `sealog verify %s`", s.dir, store.ErrCorrupt, p.next-1, name, s.dir)
	}
	return nil
}

// signedAfter reports whether a complete, NUL-free line with a signature
// member follows offset off in the file.
func (s *Store) signedAfter(path string, off int64) bool {
	f, err := os.Open(path)
	if err != nil {
		return true
	}
	defer f.Close()
	lr := newLineReader(io.NewSectionReader(f, off, 1<<62), off)
	lr.next() // the damaged line itself
	for {
		line, _, complete, err := lr.next()
		if err != nil {
			return err != io.EOF
		}
		if complete && !isTorn(line) && hasSig(line) {
			return true
		}
	}
}

// cutTail keeps a copy of bytes [cut, size) of the segment in torn/ (unless
// they are all NUL padding) and truncates the segment to cut. It returns
// the copy's path, or "" if there was nothing but padding.
func (s *Store) cutTail(path string, cut, size int64) (string, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	tail := make([]byte, size-cut)
	if _, err := f.ReadAt(tail, cut); err != nil && err != io.EOF {
		return "", err
	}
	kept := ""
	if data := bytes.TrimRight(tail, "\x00"); len(data) > 0 {
		td := filepath.Join(s.dir, layout.TornDir)
		if err := os.MkdirAll(td, 0o755); err != nil {
			return "", err
		}
		kept = filepath.Join(td, fmt.Sprintf("%s.%d.%d", filepath.Base(path), cut, time.Now().UnixNano()))
		if err := durable.WriteFile(kept, data, 0o644); err != nil {
			return "", err
		}
	}
	if err := f.Truncate(cut); err != nil {
		return "", err
	}
	return kept, f.Sync()
}

// truncateDerived cuts the index and hashes files to n entries.
func (s *Store) truncateDerived(n uint64) error {
	s.hashMap.unmapFrom(0)
	s.indexMap.unmapFrom(0)
	if err := s.index.Truncate(int64(n) * 8); err != nil {
		return err
	}
	return s.hashes.Truncate(tlog.StoredHashCount(int64(n)) * tlog.HashSize)
}

// writeDerived appends the scanner's index entries and hashes for the
// segment just scanned.
func (s *Store) writeDerived(sc *scanner) error {
	ib := make([]byte, 8*len(sc.segOff))
	for i, off := range sc.segOff {
		binary.BigEndian.PutUint64(ib[8*i:], uint64(off))
	}
	if err := s.index.Write(ib); err != nil {
		return err
	}
	return s.hashes.Write(hashBytes(sc.hashes))
}

func fileSize(path string) (int64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

func hashBytes(hs []tlog.Hash) []byte {
	b := make([]byte, 0, len(hs)*tlog.HashSize)
	for i := range hs {
		b = append(b, hs[i][:]...)
	}
	return b
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
