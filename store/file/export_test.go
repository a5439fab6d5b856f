//go:build unix

package file

import "time"

// SetFaultHook installs a persistence fault injector for tests.
func SetFaultHook(h func(step, when string) error) { faultHook = h }

// SetPlainGrace sets how long a compressed segment's plain file stays,
// and returns a function that restores the previous value.
func SetPlainGrace(d time.Duration) (restore func()) {
	old := plainGrace.Swap(int64(d))
	return func() { plainGrace.Store(old) }
}
