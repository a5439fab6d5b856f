package durable

import (
	"os"
	"syscall"
)

// datasync flushes file data and the metadata needed to read it back
// (size, extents), not timestamps.
func datasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			return err
		}
	}
}
