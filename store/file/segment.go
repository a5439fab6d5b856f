//go:build unix

package file

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/sealog/sealog/internal/durable"
	"github.com/sealog/sealog/layout"
)

// newSegment makes the active segment whose first entry is first: the
// spare segment renamed into place when one is ready, else a new file.
// The caller holds writeMu (or is opening the store).
func (s *Store) newSegment(first uint64) error {
	if err := s.checkDir(); err != nil {
		return err
	}
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
	if err := s.noteActive(); err != nil {
		return err
	}
	s.pre.attach(f, fromSpare)
	return nil
}

// fileID identifies a file: device and inode.
type fileID struct{ dev, ino uint64 }

func idOf(st *syscall.Stat_t) fileID { return fileID{uint64(st.Dev), uint64(st.Ino)} }

// noteDir records the identity of the log's directory, for checkDir.
func (s *Store) noteDir() error {
	var st syscall.Stat_t
	if err := syscall.Stat(s.dir, &st); err != nil {
		return fmt.Errorf("%s: %w", s.dir, err)
	}
	s.dirID = idOf(&st)
	return nil
}

// noteActive records the identity of the active segment, for
// checkIdentity.
func (s *Store) noteActive() error {
	var st syscall.Stat_t
	if err := syscall.Fstat(int(s.seg.Fd().Fd()), &st); err != nil {
		return err
	}
	s.segID = idOf(&st)
	return nil
}

// checkDir fails if the log's directory is no longer the one opened: it
// was removed, or moved away and replaced.
func (s *Store) checkDir() error {
	var st syscall.Stat_t
	if err := syscall.Stat(s.dir, &st); err != nil || idOf(&st) != s.dirID {
		return fmt.Errorf("%s was removed or replaced while the log was open (%v)", s.dir, errOr(err, fmt.Errorf("another directory is there now")))
	}
	return nil
}

// checkIdentity fails if the files the writer writes are no longer the
// log's: the active segment's path no longer resolves (checked at each
// call: one access(2), cheap — a stat of a file being written costs tens
// of microseconds on ext4), or the directory was replaced, or the path
// names another file, or the segment has no link left (checked at most
// every identityEvery, and whenever full is set). Append calls it before
// it acknowledges a batch: a batch written to a file no one will find
// again is lost, and must not be acknowledged.
func (s *Store) checkIdentity(full bool) error {
	if err := syscall.Access(s.seg.Name(), 0); err != nil { // F_OK
		return fmt.Errorf("the active segment %s was removed while the log was open (%v)", s.seg.Name(), err)
	}
	now := time.Now()
	if !full && now.Sub(s.idChecked) < identityEvery {
		return nil
	}
	if err := s.checkDir(); err != nil {
		return err
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(s.seg.Fd().Fd()), &st); err != nil {
		return err
	}
	if st.Nlink == 0 {
		return fmt.Errorf("the active segment %s was removed while the log was open", s.seg.Name())
	}
	if err := syscall.Stat(s.seg.Name(), &st); err != nil || idOf(&st) != s.segID {
		return fmt.Errorf("the active segment %s was removed or replaced while the log was open (%v)", s.seg.Name(), errOr(err, fmt.Errorf("another file is there now")))
	}
	s.idChecked = now
	return nil
}

// identityEvery is how often Append checks the identity of the log's
// directory and active segment in full (removing the directory, or the
// segment, each append notices at once; putting another file or
// directory in their place, within this time).
const identityEvery = 50 * time.Millisecond

// accessWrite reports whether the process may create and remove files in
// the directory dir.
func accessWrite(dir string) error {
	const wx = 0x2 | 0x1 // W_OK | X_OK
	if err := syscall.Access(dir, wx); err != nil {
		return &os.PathError{Op: "access", Path: dir, Err: err}
	}
	return nil
}
