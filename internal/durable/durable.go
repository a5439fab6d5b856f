// Package durable is the one place where sealog makes writes survive a
// crash. Every write that must be on stable storage before sealog goes on
// goes through it, and the syscall sequence is spelled out here:
//
//   - a whole file is replaced atomically by WriteFile: create a temporary
//     file in the same directory, write, fsync it, close, rename it over the
//     target, fsync the directory;
//   - an append-only file is a File: Write, then Sync (fdatasync). Once any
//     write, sync or truncate fails, the File is poisoned: every later call
//     returns an error wrapping ErrPoisoned and the first failure, because
//     after a failed fsync the kernel may have dropped the dirty pages and a
//     retry would report success for data that is gone;
//   - a new directory entry (a created or renamed file) is made durable by
//     SyncDir.
package durable

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrPoisoned is wrapped by every error a File returns after a failed
// write, sync or truncate. Reopen the log to recover.
var ErrPoisoned = errors.New("file handle poisoned by an earlier I/O failure; reopen the log")

// WriteFile atomically replaces path with data: after it returns nil, a
// crash leaves either the old or the new content, never a mix.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(perm); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := fsync(f, false); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	hookRenamed(tmp, path)
	return SyncDir(dir)
}

// WriteNew creates path with data and perm, failing if it exists, and makes
// it durable. It is for files that must never be overwritten, such as keys.
func WriteNew(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := fsync(f, false); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return SyncDir(filepath.Dir(path))
}

// SyncDir fsyncs a directory, making the entries created, renamed or
// removed in it durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}

// Pending is a file being written that replaces its target atomically on
// Commit: the streaming form of WriteFile.
type Pending struct {
	f    *os.File
	path string
}

// Create starts writing a replacement for path.
func Create(path string, perm os.FileMode) (*Pending, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return &Pending{f: f, path: path}, nil
}

// Name returns the pending file's (temporary) path.
func (p *Pending) Name() string { return p.f.Name() }

// Write writes to the pending file.
func (p *Pending) Write(b []byte) (int, error) { return p.f.Write(b) }

// Commit makes the pending file durable and renames it over its target.
func (p *Pending) Commit() error {
	if err := fsync(p.f, false); err != nil {
		p.Abort()
		return err
	}
	if err := p.f.Close(); err != nil {
		os.Remove(p.f.Name())
		return err
	}
	if err := os.Rename(p.f.Name(), p.path); err != nil {
		os.Remove(p.f.Name())
		return err
	}
	hookRenamed(p.f.Name(), p.path)
	return SyncDir(filepath.Dir(p.path))
}

// Abort discards the pending file.
func (p *Pending) Abort() {
	p.f.Close()
	os.Remove(p.f.Name())
}
