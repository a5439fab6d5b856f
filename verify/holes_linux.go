//go:build linux

package verify

import (
	"errors"
	"io"
	"os"
	"syscall"
)

// Linux's lseek(2) finds the data in a sparse file.
const (
	seekData = 3 // SEEK_DATA
	seekHole = 4 // SEEK_HOLE
)

// fileRestIsNUL checks that file holds only NUL bytes from pos to its end
// and returns how many. Holes (a sparse file: `truncate -s 16T` costs no
// disk) read as NUL and are skipped without reading them; data regions
// are read.
func fileRestIsNUL(file *os.File, pos int64) (int64, string) {
	fi, err := file.Stat()
	if err != nil {
		return 0, "unreadable after NUL bytes: " + err.Error()
	}
	size := fi.Size()
	start := pos
	buf := make([]byte, 256<<10)
	for pos < size {
		data, err := file.Seek(pos, seekData)
		if errors.Is(err, syscall.ENXIO) {
			break // a hole to the end
		}
		if err != nil {
			return readRestIsNUL(file, pos, size, buf) // no SEEK_DATA here
		}
		hole, err := file.Seek(data, seekHole)
		if err != nil {
			hole = size
		}
		for off := data; off < hole; {
			n, err := file.ReadAt(buf[:min(int64(len(buf)), hole-off)], off)
			if !isNUL(buf[:n]) {
				return 0, "NUL bytes followed by data inside the segment"
			}
			off += int64(n)
			if err == io.EOF {
				break
			}
			if err != nil {
				return 0, "unreadable after NUL bytes: " + err.Error()
			}
		}
		pos = hole
	}
	return size - start, ""
}
