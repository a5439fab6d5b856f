//go:build !unix

package testkit

import "os"

// flock does nothing where there is no flock: test binaries that run at
// once do not coordinate there.
func flock(*os.File, bool) error { return nil }
