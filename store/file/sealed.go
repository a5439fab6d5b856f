//go:build unix

package file

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/store"
)

// checkSealed checks sealed segment i, which recovery does not rescan,
// where it meets its neighbours: its first and last entries are the ones
// the stored hashes hold, its last entry carries a signature that
// verifies over the stored tree at that size, and nothing follows that
// entry. Reading every sealed segment at each open would cost as much as
// verifying the log; a change inside a sealed segment is for `sealog
// verify` to find, and it cannot be laundered: the writer builds on the
// stored hashes, so every later signature still commits to the original
// entries.
func (s *Store) checkSealed(i int) error {
	sg, next := s.segs[i], s.segs[i+1].first
	name := filepath.Base(sg.path)
	corrupt := func(format string, args ...any) error {
		return fmt.Errorf("%s: %w: sealed segment %s: %s; run `sealog verify %s`", s.dir, store.ErrCorrupt, name, fmt.Sprintf(format, args...), s.dir)
	}
	if next <= sg.first {
		return corrupt("the next segment starts at seq %d, not after its first entry %d", next, sg.first)
	}
	// The first entry.
	line, _, err := readSegmentLine(sg, 0)
	if err != nil {
		return s.sealedErr(name, sg.first, err)
	}
	if err := s.checkStoredLine(sg.first, line); err != nil {
		return corrupt("%v", err)
	}
	// The last entry, its signature, and the segment's end.
	off, err := s.offsetOf(next - 1)
	if err != nil {
		return err
	}
	line, atEnd, err := readSegmentLine(sg, off)
	if err != nil {
		return s.sealedErr(name, next-1, err)
	}
	if err := s.checkStoredLine(next-1, line); err != nil {
		return corrupt("%v", err)
	}
	if !atEnd {
		return corrupt("bytes follow its last entry, %d", next-1)
	}
	l, _ := format.ParseLine(line)
	if l.Sig == nil {
		return corrupt("its last entry, %d, carries no signature", next-1)
	}
	root, err := tlog.TreeHash(int64(next), hashReader{s})
	if err != nil {
		return err
	}
	text := checkpoint.Checkpoint{Origin: s.meta.Origin, Size: next, Root: root}.Text()
	if !s.verifyText(text, l.Sig) {
		return corrupt("the signature on its last entry, %d, does not verify", next-1)
	}
	return nil
}

// checkStoredLine checks that line is entry seq as the stored hashes hold
// it.
func (s *Store) checkStoredLine(seq uint64, line []byte) error {
	l, err := format.ParseLine(line)
	if err != nil {
		return fmt.Errorf("entry %d: %v", seq, err)
	}
	if l.Seq != seq {
		return fmt.Errorf("seq %d where entry %d should be", l.Seq, seq)
	}
	leaf, err := s.leafOf(seq)
	if err != nil {
		return err
	}
	if h := l.Header(); h.LeafHash() != leaf {
		return fmt.Errorf("entry %d differs from the entry the log's tree holds", seq)
	}
	return nil
}

// sealedErr describes a failure to read entry seq of a sealed segment.
func (s *Store) sealedErr(name string, seq uint64, err error) error {
	if errors.Is(err, store.ErrCorrupt) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: %w: sealed segment %s: entry %d: %v; run `sealog verify %s`", s.dir, store.ErrCorrupt, name, seq, err, s.dir)
	}
	return fmt.Errorf("%s: sealed segment %s: %w", s.dir, name, err)
}

// readSegmentLine reads the line at uncompressed offset off of a segment
// and reports whether the segment ends right after it. A line that is
// cut short is io.ErrUnexpectedEOF.
func readSegmentLine(sg segment, off int64) (line []byte, atEnd bool, err error) {
	var rc io.ReadCloser
	if sg.compressed {
		rc, err = openCompressedAt(sg.path, off)
	} else {
		var f *os.File
		if f, err = os.Open(sg.path); err == nil {
			rc = struct {
				io.Reader
				io.Closer
			}{io.NewSectionReader(f, off, 1<<62), f}
		}
	}
	if err != nil {
		return nil, false, err
	}
	defer rc.Close()
	lr := newLineReader(rc, off)
	line, _, complete, err := lr.next()
	if err == nil && !complete {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return nil, false, err
	}
	line = append([]byte(nil), line...)
	var pe *fs.PathError
	switch _, _, _, err = lr.next(); {
	case err == io.EOF:
		return line, true, nil
	case errors.Is(err, store.ErrCorrupt) || errors.As(err, &pe):
		return nil, false, err
	}
	return line, false, nil // a line, or bytes that are not one
}
