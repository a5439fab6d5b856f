//go:build unix

package verify

import (
	"errors"
	"syscall"

	"github.com/sealog/sealog/layout"
)

// lockHeld reports whether some process holds the writer's lock (flock)
// on path. It opens only a regular file, without blocking (a FIFO in the
// lock's place would block an ordinary open forever), and takes and drops
// a shared lock without waiting.
func lockHeld(path string) bool {
	f, err := layout.OpenRegular(path)
	if err != nil {
		return false
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		return errors.Is(err, syscall.EWOULDBLOCK)
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false
}
