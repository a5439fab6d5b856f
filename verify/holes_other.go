//go:build !linux

package verify

import "os"

// fileRestIsNUL checks that file holds only NUL bytes from pos to its end
// and returns how many, reading it (no SEEK_DATA to skip holes with).
func fileRestIsNUL(file *os.File, pos int64) (int64, string) {
	fi, err := file.Stat()
	if err != nil {
		return 0, "unreadable after NUL bytes: " + err.Error()
	}
	return readRestIsNUL(file, pos, fi.Size(), make([]byte, 256<<10))
}
