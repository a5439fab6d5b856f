//go:build unix

package file

// SetFaultHook installs a persistence fault injector for tests.
func SetFaultHook(h func(step, when string) error) { faultHook = h }
