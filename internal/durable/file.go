package durable

import (
	"fmt"
	"io"
	"os"
	"sync"
)

// File is an append-only file whose handle is poisoned by its first I/O
// failure. One goroutine may Write while another calls Sync; ReadAt may be
// called concurrently with everything.
type File struct {
	f    *os.File
	size int64 // bytes written (the append position); owned by the writer

	mu  sync.Mutex
	err error // first failure; set once
}

// OpenFile opens (creating with perm if needed) the file at path for
// appending at offset size, which the caller has established as the end of
// the valid data. Bytes after size are overwritten by later writes.
func OpenFile(path string, size int64, perm os.FileMode) (*File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, perm)
	if err != nil {
		return nil, err
	}
	return &File{f: f, size: size}, nil
}

// Name returns the file's path.
func (w *File) Name() string { return w.f.Name() }

// Size returns the append position.
func (w *File) Size() int64 { return w.size }

// Err returns the failure that poisoned the file, or nil.
func (w *File) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

func (w *File) fail(op string, err error) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = fmt.Errorf("%s %s: %w", op, w.f.Name(), err)
		return w.err
	}
	return fmt.Errorf("%w: %w", ErrPoisoned, w.err)
}

func (w *File) poisoned() error {
	if err := w.Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrPoisoned, err)
	}
	return nil
}

// Write appends p at the append position. It is not durable until Sync.
func (w *File) Write(p []byte) error {
	if err := w.poisoned(); err != nil {
		return err
	}
	n, err := w.f.WriteAt(p, w.size)
	hookWrite(w.f.Name(), w.size, n)
	w.size += int64(n)
	if err != nil {
		return w.fail("write", err)
	}
	return nil
}

// WriteAt writes p at off, which must not be past the append position;
// the append position moves to the end of p if that is past it. It is
// for rewriting bytes in place (recovery writes a batch again, or
// rebuilds derived records). It is not durable until Sync.
func (w *File) WriteAt(p []byte, off int64) error {
	if err := w.poisoned(); err != nil {
		return err
	}
	n, err := w.f.WriteAt(p, off)
	hookWrite(w.f.Name(), off, n)
	if end := off + int64(n); end > w.size {
		w.size = end
	}
	if err != nil {
		return w.fail("write", err)
	}
	return nil
}

// SetEnd moves the append position to size, which the caller has
// established as the end of the valid data.
func (w *File) SetEnd(size int64) { w.size = size }

// Sync makes everything written so far durable (fdatasync where the
// platform has it).
func (w *File) Sync() error {
	if err := w.poisoned(); err != nil {
		return err
	}
	if err := fsync(w.f, true); err != nil {
		return w.fail("fsync", err)
	}
	return nil
}

// Truncate cuts the file to size bytes and moves the append position there.
func (w *File) Truncate(size int64) error {
	if err := w.poisoned(); err != nil {
		return err
	}
	if err := w.f.Truncate(size); err != nil {
		return w.fail("truncate", err)
	}
	hookTruncate(w.f.Name(), size)
	w.size = size
	return nil
}

// ReadAt reads from the file; it never poisons it.
func (w *File) ReadAt(p []byte, off int64) (int, error) { return w.f.ReadAt(p, off) }

// Fd returns the underlying file, for read-only uses such as mmap.
func (w *File) Fd() *os.File { return w.f }

// Close closes the file. A poisoned file still closes.
func (w *File) Close() error { return w.f.Close() }

var _ io.ReaderAt = (*File)(nil)

// Wrap adopts an open file; the append position is its current size.
func Wrap(f *os.File) *File {
	w := &File{f: f}
	if fi, err := f.Stat(); err == nil {
		w.size = fi.Size()
	}
	return w
}

// DataSync flushes a file's data (fdatasync where the platform has it),
// for writes that need no poisoning, such as preallocation.
func DataSync(f *os.File) error { return datasync(f) }
