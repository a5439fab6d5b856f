package bundle

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// ReadFile reads and parses the bundle at path.
func ReadFile(path string) (*Bundle, error) {
	data, err := ReadLimited(path, MaxSize)
	if err != nil {
		return nil, err
	}
	return Parse(data)
}

// ErrTooLarge is returned (wrapped) by ReadLimited for a file larger than
// its limit.
var ErrTooLarge = errors.New("larger than the limit")

// ReadLimited reads the file at path, refusing one larger than max bytes
// before reading it (a sparse file of terabytes costs no disk) and never
// reading more than max+1 bytes (a FIFO or a device claims no size).
func ReadLimited(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readLimited(f, path, max)
}

func readLimited(f *os.File, path string, max int64) ([]byte, error) {
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > max {
		return nil, fmt.Errorf("%s: %w: %d bytes, over the %d-byte limit", path, ErrTooLarge, fi.Size(), max)
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s: %w: over the %d-byte limit", path, ErrTooLarge, max)
	}
	return data, nil
}

// WriteFile writes data (a marshalled bundle or proof) to path durably:
// to a temporary file in the same directory, synced, then renamed into
// place. Unless overwrite is set it refuses an existing path, returning
// an error wrapping fs.ErrExist.
func WriteFile(path string, data []byte, overwrite bool) error {
	if !overwrite {
		if _, err := os.Lstat(path); err == nil {
			return fmt.Errorf("%s: %w", path, fs.ErrExist)
		}
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil && !overwrite {
		// Link fails if path appeared meanwhile; rename would replace it.
		if err = os.Link(tmp, path); err == nil {
			os.Remove(tmp)
		}
	} else if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
