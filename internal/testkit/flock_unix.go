//go:build unix

package testkit

import (
	"os"
	"syscall"
)

// flock takes f's advisory lock, shared or exclusive, waiting for it.
func flock(f *os.File, exclusive bool) error {
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	return syscall.Flock(int(f.Fd()), how)
}
