//go:build !linux

package main

import "os"

// isTerminal reports whether f is a character device other than a null
// device: a terminal, as far as the standard library can tell.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	return f.Name() != os.DevNull
}
