//go:build !unix

package lockfile

import "errors"

// ErrLocked is returned when another process holds the lock.
var ErrLocked = errors.New("locked by another process")

// Lock is a held lock.
type Lock struct{}

// Acquire is not supported on this platform.
func Acquire(path string) (*Lock, error) {
	return nil, errors.New("writing a log needs file locking, which sealog supports on Unix only")
}

// Release drops the lock.
func (l *Lock) Release() error { return nil }

// Held reports false: no lock can be held here.
func Held(path string) bool { return false }
