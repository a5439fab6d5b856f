//go:build unix && !linux

package file

import (
	"errors"
	"os"
)

// openDirect is not available here; zeroFill falls back to plain writes.
func openDirect(string) (*os.File, error) { return nil, errors.New("no O_DIRECT") }
