//go:build !unix

package main

import "testing"

// mkfifo reports false: this system has no FIFOs.
func mkfifo(t *testing.T, path string) bool { return false }
