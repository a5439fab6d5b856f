//go:build unix

package file

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/internal/durable"
	"github.com/sealog/sealog/layout"
)

// apply carries out the plan. A failure here leaves a log that the next
// open recovers: every step is one recovery would take again.
func (r *recovery) apply() error {
	s, sc := r.s, r.sc
	if err := s.removeTemps(); err != nil {
		return err
	}
	if err := r.removeCopies(); err != nil {
		return err
	}
	if err := s.removePruned(r.prunedGone); err != nil {
		return err
	}
	if err := r.writeDerived(); err != nil {
		return err
	}
	if a := r.act; a != nil {
		if err := r.cutActive(); err != nil {
			return err
		}
		s.seg = a.f
		if a.data {
			// The bytes cut were data. The log goes on in a new segment
			// rather than writing other bytes where they were: a reader
			// that read a part of them before the cut would otherwise
			// see them continue with the new ones (a break that is not
			// there). So a byte of a segment, once written with data,
			// never holds other data (an erasure replaces the file).
			if err := r.sealCut(); err != nil {
				return err
			}
			r.newSeg = true
		}
	}
	if r.newSeg {
		if err := s.newSegment(sc.next); err != nil {
			return err
		}
	}
	if err := s.noteActive(); err != nil {
		return err
	}
	if r.ckWrite != nil {
		return durable.WriteFile(filepath.Join(s.dir, layout.CheckpointFile), r.ckWrite, 0o644)
	}
	return nil
}

// removeTemps removes the temporary files that a writer killed in the
// middle of a durable write left (durable names them ".NAME.tmp…"); only
// the writer, which holds the lock, makes them.
func (s *Store) removeTemps() error {
	for _, d := range []string{s.dir, filepath.Join(s.dir, layout.SegmentsDir), filepath.Join(s.dir, layout.TornDir)} {
		ents, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		removed := false
		for _, e := range ents {
			if n := e.Name(); strings.HasPrefix(n, ".") && strings.Contains(n, ".tmp") && e.Type().IsRegular() {
				if err := os.Remove(filepath.Join(d, n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return err
				}
				removed = true
			}
		}
		if removed {
			if err := durable.SyncDir(d); err != nil {
				return err
			}
		}
	}
	return nil
}

// removeCopies removes the compressed copies that an interrupted
// compression left beside their plain segments; a complete copy (with
// its frame index, written before the copy appeared) is kept, and the
// compressor finishes the job.
func (r *recovery) removeCopies() error {
	s := r.s
	removed := false
	for _, d := range r.dropCopies {
		s.log.Info("removing interrupted compression output", "file", d)
		if err := os.Remove(d); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		removed = true
	}
	if removed {
		return durable.SyncDir(filepath.Join(s.dir, layout.SegmentsDir))
	}
	return nil
}

// writeDerived writes the index entries and stored hashes of the entries
// rescanned, in place, cuts what follows, and syncs both files. Records
// that readers may be reading (those a published checkpoint covers) are
// rewritten with the same bytes, never removed.
func (r *recovery) writeDerived() error {
	s, sc := r.s, r.sc
	if err := s.createDerived(); err != nil {
		return err
	}
	idx := make([]byte, 8*len(sc.segOff))
	for i, off := range sc.segOff {
		binary.BigEndian.PutUint64(idx[8*i:], uint64(off))
	}
	for _, d := range []struct {
		f     *durable.File
		m     *mapped
		at    int64
		spill *os.File
		tail  []byte
	}{
		{s.index, s.indexMap, int64(r.base) * 8, r.spill.indexFile(), idx},
		{s.hashes, s.hashMap, tlog.StoredHashCount(int64(r.base)) * tlog.HashSize, r.spill.hashesFile(), hashBytes(sc.hashes)},
	} {
		at := d.at
		if d.spill != nil {
			n, err := copyAt(d.f, at, d.spill)
			if err != nil {
				return err
			}
			at += n
		}
		if err := d.f.WriteAt(d.tail, at); err != nil {
			return err
		}
		end := at + int64(len(d.tail))
		if fi, err := d.f.Fd().Stat(); err != nil {
			return err
		} else if fi.Size() > end {
			d.m.unmapFrom(end)
		}
		if err := d.f.Truncate(end); err != nil {
			return err
		}
		if err := d.f.Sync(); err != nil {
			return err
		}
	}
	return nil
}

// copyAt copies src from its start into f at off.
func copyAt(f *durable.File, off int64, src *os.File) (int64, error) {
	buf := make([]byte, 1<<20)
	n := int64(0)
	for {
		m, err := src.ReadAt(buf, n)
		if m > 0 {
			if werr := f.WriteAt(buf[:m], off+n); werr != nil {
				return n, werr
			}
			n += int64(m)
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// cutActive cuts the active segment after its last signed batch, keeping
// a copy of what it cuts (unless it is only padding) in torn/, and writes
// that batch again and syncs it: if a failed fsync left its bytes in the
// page cache only, a later power cut would otherwise take away entries
// the log goes on from (Linux marks such pages clean, so another fsync
// does not write them).
func (r *recovery) cutActive() error {
	s, a := r.s, r.act
	name := filepath.Base(a.path)
	if a.cut < a.size {
		kept, err := s.keepTorn(a, name)
		if err != nil {
			return err
		}
		if err := a.f.Truncate(a.cut); err != nil {
			return err
		}
		switch {
		case kept == "":
			s.log.Debug("trimmed preallocated space", "segment", name, "bytes", a.size-a.cut)
		case a.damage != "":
			s.log.Warn("recovery cut damaged bytes from the end of the active segment: no signature covers them, so they were never acknowledged",
				"segment", name, "offset", a.cut, "bytes", a.size-a.cut, "entries", a.unsigned, "damage", a.damage, "copy", kept)
		default:
			s.log.Warn("recovery cut the end of the active segment: what the crash interrupted of the batches written ahead of their fdatasync (at most two), so never acknowledged",
				"segment", name, "offset", a.cut, "bytes", a.size-a.cut, "entries", a.unsigned, "copy", kept)
		}
	}
	last := make([]byte, a.cut-a.last)
	if _, err := a.f.ReadAt(last, a.last); err != nil {
		return err
	}
	if err := a.f.WriteAt(last, a.last); err != nil {
		return err
	}
	if err := a.f.Sync(); err != nil {
		return err
	}
	a.f.SetEnd(a.cut)
	return nil
}

// sealCut ends the active segment at its cut: it holds entries and ends
// with a signed batch (cutActive synced it, writeDerived the derived
// files), so it is a sealed segment now; or it holds none, and is
// removed, to be made again empty.
func (r *recovery) sealCut() error {
	s, a := r.s, r.act
	if a.cut > 0 {
		s.log.Info("the log goes on in a new segment after the cut", "sealed", filepath.Base(a.path))
		return nil
	}
	s.seg = nil
	a.f.Close()
	if err := os.Remove(a.path); err != nil {
		return err
	}
	s.mu.Lock()
	s.segs = s.segs[:len(s.segs)-1]
	s.mu.Unlock()
	return durable.SyncDir(filepath.Dir(a.path))
}

// keepTorn copies the bytes after the cut, without trailing padding, to
// torn/, and returns the copy's path ("" when there was nothing but
// padding).
func (s *Store) keepTorn(a *activeTail, name string) (string, error) {
	tail := make([]byte, a.size-a.cut)
	if _, err := a.f.ReadAt(tail, a.cut); err != nil && err != io.EOF {
		return "", err
	}
	data := bytes.TrimRight(tail, "\x00")
	if len(data) == 0 {
		return "", nil
	}
	td := filepath.Join(s.dir, layout.TornDir)
	if err := os.MkdirAll(td, 0o755); err != nil {
		return "", err
	}
	kept := filepath.Join(td, fmt.Sprintf("%s.%d.%d", name, a.cut, time.Now().UnixNano()))
	return kept, durable.WriteFile(kept, data, 0o644)
}
