//go:build unix

package layout

import (
	"errors"
	"os"
	"syscall"
)

func openNoFollow(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
}

// isSymlinkErr: open(2) with O_NOFOLLOW on a symlink fails with ELOOP
// (and open(2) of a socket with ENXIO: not a regular file either).
func isSymlinkErr(err error) bool {
	return errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.ENXIO)
}

// clearNonblock makes reads of a regular file ordinary again (O_NONBLOCK
// only kept open(2) from waiting for a FIFO's writer).
func clearNonblock(f *os.File) error {
	sc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := sc.Control(func(fd uintptr) { serr = syscall.SetNonblock(int(fd), false) }); err != nil {
		return err
	}
	return serr
}
