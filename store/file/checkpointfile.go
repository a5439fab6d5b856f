//go:build unix

package file

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/internal/durable"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/store"
)

// checkpointAt returns the signed checkpoint for the scanner's size: from
// the newest signature in the active segment, or else from the last line
// of the previous one.
func (s *Store) checkpointAt(sc *scanner) ([]byte, error) {
	if sc.next == 0 {
		return nil, nil
	}
	if p := &sc.signed; p.sig != nil && p.next == sc.next {
		return checkpoint.Assemble(p.text(s.meta.Origin), s.meta.Origin, p.sig), nil
	}
	line, err := s.readLineRaw(sc.next-1, nil)
	if err != nil {
		return nil, err
	}
	l, err := format.ParseLine(line)
	if err != nil || l.Sig == nil {
		return nil, fmt.Errorf("%s: %w: entry %d ends a segment but carries no signature", s.dir, store.ErrCorrupt, sc.next-1)
	}
	text := checkpoint.Checkpoint{Origin: s.meta.Origin, Size: sc.next, Root: sc.edge.Root()}.Text()
	if !s.verifyText(text, l.Sig) {
		return nil, fmt.Errorf("%s: %w: the signature on entry %d does not verify", s.dir, store.ErrCorrupt, sc.next-1)
	}
	return checkpoint.Assemble(text, s.meta.Origin, l.Sig), nil
}

// checkCheckpointFile compares the checkpoint file with the recovered log
// and brings it up to date. A checkpoint beyond the log means acknowledged
// entries are gone; one that disagrees with the log means it was rewritten.
func (s *Store) checkCheckpointFile() error {
	path := filepath.Join(s.dir, layout.CheckpointFile)
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err == nil {
		c, _, err := checkpoint.Open(b, s.verifiers(), s.meta.Origin)
		switch {
		case err != nil:
			s.log.Warn("replacing an unreadable checkpoint file", "error", err)
		case c.Size > s.head.Size:
			return fmt.Errorf("%s: %w: its checkpoint covers %d entries but only %d are present; entries %d to %d were removed",
				s.dir, store.ErrTruncated, c.Size, s.head.Size, s.head.Size, c.Size-1)
		default:
			root, err := tlog.TreeHash(int64(c.Size), hashReader{s})
			if err != nil {
				return err
			}
			if root != c.Root {
				return fmt.Errorf("%s: %w: the entries do not match the log's own checkpoint at size %d; run `sealog verify %s`", s.dir, store.ErrCorrupt, c.Size, s.dir)
			}
			if bytes.Equal(b, s.head.Checkpoint) {
				return nil
			}
		}
	}
	if s.head.Size == 0 {
		return nil
	}
	return durable.WriteFile(path, s.head.Checkpoint, 0o644)
}

// newSegment makes the active segment whose first entry is first: the
// spare segment renamed into place when one is ready, else a new file.
func (s *Store) newSegment(first uint64) error {
	sd := filepath.Join(s.dir, layout.SegmentsDir)
	if err := os.MkdirAll(sd, 0o755); err != nil {
		return err
	}
	path := filepath.Join(sd, layout.SegmentName(first, false))
	fromSpare := s.pre.takeSpare(path)
	f, err := durable.OpenFile(path, 0, 0o644)
	if err != nil {
		return err
	}
	if err := durable.SyncDir(sd); err != nil {
		f.Close()
		return err
	}
	if s.seg != nil {
		s.seg.Close()
	}
	s.seg = f
	s.mu.Lock()
	s.segs = append(s.segs, segment{first: first, path: path})
	s.mu.Unlock()
	s.pre.attach(f, fromSpare)
	return nil
}
