//go:build unix

package file

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/store"
)

// openReadOnly serves what the checkpoint file covers. A writer that is
// opening the log at the same moment rebuilds the derived files for its
// active segment, so a reader that finds them short retries for a while.
func (s *Store) openReadOnly() error {
	var err error
	for wait := 10 * time.Millisecond; wait < 3*time.Second; wait *= 2 {
		if err = s.openReadOnlyOnce(); !errors.Is(err, errDerivedShort) {
			return err
		}
		time.Sleep(wait)
	}
	return err
}

// errDerivedShort marks derived files that do not yet cover the checkpoint.
var errDerivedShort = ErrRecoveryNeeded

func (s *Store) openReadOnlyOnce() error {
	b, err := os.ReadFile(filepath.Join(s.dir, layout.CheckpointFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil // an empty log
	}
	if err != nil {
		return err
	}
	c, _, err := checkpoint.Open(b, s.verifiers(), s.meta.Origin)
	if err != nil && s.loadKeys() == nil { // the writer may have rotated the key since
		c, _, err = checkpoint.Open(b, s.verifiers(), s.meta.Origin)
	}
	if err != nil {
		return fmt.Errorf("%s: %w: %s: %v", s.dir, store.ErrCorrupt, layout.CheckpointFile, err)
	}
	if c.Size == 0 || c.Size <= s.headNow().Size {
		return nil
	}
	if err := s.checkDerived(c.Size); err != nil {
		return err
	}
	root, err := tlog.TreeHash(int64(c.Size), hashReader{s})
	if err != nil {
		return err
	}
	if root != c.Root {
		return fmt.Errorf("%s: %w: the stored tree hashes do not match the checkpoint; open the log for writing once to rebuild them", s.dir, store.ErrCorrupt)
	}
	leaf, err := s.readHashesRaw([]int64{tlog.StoredHashIndex(0, int64(c.Size-1))})
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.head = store.Head{Size: c.Size, LastLeaf: leaf[0], Checkpoint: b}
	s.mu.Unlock()
	return nil
}

// refreshIfChanged brings a read-only store up to date with what the
// writer has committed since (as far as the checkpoint file shows), when
// the checkpoint file changed since the last look. A writer that is
// mid-recovery (derived files short) leaves the head where it was.
func (s *Store) refreshIfChanged() error {
	fi, err := os.Stat(filepath.Join(s.dir, layout.CheckpointFile))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	st := ckStat{fi.Size(), fi.ModTime().UnixNano(), inode(fi)}
	s.refreshMu.Lock()
	defer s.refreshMu.Unlock()
	if st == s.ckSeen {
		return nil
	}
	if err := s.relist(); err != nil {
		return err
	}
	if err := s.openReadOnlyOnce(); err != nil {
		if errors.Is(err, errDerivedShort) {
			return nil // the writer is recovering: try again next time
		}
		return err
	}
	s.ckSeen = st
	return nil
}

// ckStat identifies a version of the checkpoint file.
type ckStat struct {
	size, mtime int64
	ino         uint64
}

func inode(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino)
	}
	return 0
}

// relist re-reads the segment list (a writer may have added or
// compressed segments since).
func (s *Store) relist() error {
	segs, _, err := layout.Segments(s.dir)
	if err != nil {
		return err
	}
	list := make([]segment, len(segs))
	for i, sg := range segs {
		list[i] = segment{first: sg.First, path: sg.Path, compressed: sg.Compressed}
	}
	s.mu.Lock()
	s.segs = list
	s.mu.Unlock()
	return nil
}

// checkDerived checks that the index and hashes files cover n entries.
func (s *Store) checkDerived(n uint64) error {
	if s.index == nil || s.hashes == nil {
		return fmt.Errorf("%s: %w: the index or hashes file is missing", s.dir, errDerivedShort)
	}
	fi, err := s.index.Fd().Stat()
	if err != nil {
		return err
	}
	hi, err := s.hashes.Fd().Stat()
	if err != nil {
		return err
	}
	if fi.Size() < int64(n)*8 || hi.Size() < tlog.StoredHashCount(int64(n))*tlog.HashSize {
		return fmt.Errorf("%s: %w: the index or hashes file is shorter than the checkpoint (%d entries): the writer did not close the log cleanly; open it for writing once to recover", s.dir, errDerivedShort, n)
	}
	return nil
}
