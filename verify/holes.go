package verify

import (
	"io"
	"os"
)

// readRestIsNUL reads file from pos to size and checks it is all NUL.
func readRestIsNUL(file *os.File, pos, size int64, buf []byte) (int64, string) {
	start := pos
	for pos < size {
		n, err := file.ReadAt(buf[:min(int64(len(buf)), size-pos)], pos)
		if !isNUL(buf[:n]) {
			return 0, "NUL bytes followed by data inside the segment"
		}
		pos += int64(n)
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, "unreadable after NUL bytes: " + err.Error()
		}
	}
	return pos - start, ""
}
