package durable

import (
	"os"
	"sync/atomic"
)

// Hooks observe, and can fail, the operations of this package, for tests
// that model a disk: which bytes an fsync made durable, which a failed
// fsync left in the page cache only, which file versions were fsynced
// before they were renamed into place. Nil fields do nothing. Production
// code never sets them.
type Hooks struct {
	// Write is called after n bytes were written at off to the File at
	// path (in the page cache, not yet durable).
	Write func(path string, off int64, n int)
	// Sync is called before a File is synced, and before WriteFile or
	// Pending.Commit fsyncs its temporary file (path is then that
	// file's). A non-nil error fails the sync as an I/O error would: what
	// it would have flushed is in the page cache but not on the disk, and
	// a later sync does not flush it again (Linux marks the pages clean).
	Sync func(path string) error
	// Synced is called after a successful sync of the file at path, with
	// the file (for its inode).
	Synced func(path string, f *os.File)
	// Truncate is called after the File at path was cut to size.
	Truncate func(path string, size int64)
	// Renamed is called after WriteFile or Pending.Commit renamed the
	// temporary file tmp over path.
	Renamed func(tmp, path string)
}

var hooks atomic.Pointer[Hooks]

// SetHooks installs h (nil removes them) and returns the hooks it
// replaced. For tests only.
func SetHooks(h *Hooks) *Hooks { return hooks.Swap(h) }

func hookWrite(path string, off int64, n int) {
	if h := hooks.Load(); h != nil && h.Write != nil && n > 0 {
		h.Write(path, off, n)
	}
}

func hookSync(path string) error {
	if h := hooks.Load(); h != nil && h.Sync != nil {
		return h.Sync(path)
	}
	return nil
}

func hookSynced(path string, f *os.File) {
	if h := hooks.Load(); h != nil && h.Synced != nil {
		h.Synced(path, f)
	}
}

func hookTruncate(path string, size int64) {
	if h := hooks.Load(); h != nil && h.Truncate != nil {
		h.Truncate(path, size)
	}
}

func hookRenamed(tmp, path string) {
	if h := hooks.Load(); h != nil && h.Renamed != nil {
		h.Renamed(tmp, path)
	}
}

// fsync syncs f (fsync, or fdatasync when data is set) through the
// hooks.
func fsync(f *os.File, data bool) error {
	if err := hookSync(f.Name()); err != nil {
		return err
	}
	var err error
	if data {
		err = datasync(f)
	} else {
		err = f.Sync()
	}
	if err == nil {
		hookSynced(f.Name(), f)
	}
	return err
}
