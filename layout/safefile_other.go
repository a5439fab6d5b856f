//go:build !unix

package layout

import (
	"io/fs"
	"os"
)

// openNoFollow refuses a symlink found by Lstat; there is no FIFO to block
// on where this builds.
func openNoFollow(path string) (*os.File, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return nil, errSymlink
	}
	return os.Open(path)
}

type symlinkError struct{}

func (symlinkError) Error() string { return "a symbolic link" }

var errSymlink error = symlinkError{}

func isSymlinkErr(err error) bool { return err == errSymlink }

func clearNonblock(*os.File) error { return nil }
