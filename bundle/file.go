package bundle

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ReadFile reads and parses the bundle at path.
func ReadFile(path string) (*Bundle, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Size() > MaxSize {
		return nil, fmt.Errorf("%s: %w: %d bytes, over the %d-byte limit", path, ErrNotBundle, fi.Size(), MaxSize)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(data)
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
