package layout

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Every file a reader takes from a log directory is untrusted, and not
// only its bytes: a FIFO in its place blocks open(2) and read(2) forever,
// a symlink to /dev/zero never ends, a sparse file of 16 TiB costs no disk.
// So readers open log files only through OpenRegular and ReadRegular:
// without following a symlink, without blocking on a FIFO, and only when
// the file is a regular file; and they read small files only up to a bound.

// ErrNotRegular means a path in a log directory is not a regular file (a
// symlink, a FIFO, a device, a directory).
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge means a file is larger than a reader accepts.
var ErrTooLarge = errors.New("file too large")

// Bounds on the small files of a log directory.
const (
	MaxMetadataSize   = 64 << 10
	MaxCheckpointSize = 64 << 10
)

// OpenRegular opens path for reading if it is a regular file. It does not
// follow a symlink at path (a symlink is ErrNotRegular) and does not block
// on a FIFO. A missing file gives an error wrapping fs.ErrNotExist.
func OpenRegular(path string) (*os.File, error) {
	f, err := openNoFollow(path)
	if err != nil {
		if isSymlinkErr(err) {
			return nil, fmt.Errorf("%s: %w (a symbolic link or a socket)", path, ErrNotRegular)
		}
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: %w (%s)", path, ErrNotRegular, describeMode(fi.Mode()))
	}
	if err := clearNonblock(f); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// ReadRegular reads the regular file at path, at most max bytes: a larger
// file gives an error wrapping ErrTooLarge, whatever its size claims.
func ReadRegular(path string, max int64) ([]byte, error) {
	f, err := OpenRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > max {
		return nil, fmt.Errorf("%s: %w (%d bytes, more than %d)", path, ErrTooLarge, fi.Size(), max)
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: %w (more than %d bytes)", path, ErrTooLarge, max)
	}
	return b, nil
}

// describeMode names a file type for an error message.
func describeMode(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m.IsDir():
		return "a directory"
	}
	return "not a regular file"
}
