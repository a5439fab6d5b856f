//go:build unix

package file

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/sealog/sealog/format"
)

// lineReader splits a segment stream into lines, tracking byte offsets.
type lineReader struct {
	r     io.Reader
	buf   []byte
	start int   // first unread byte in buf
	end   int   // end of valid data in buf
	off   int64 // stream offset of buf[start]
	err   error // sticky read error (io.EOF at the end)
}

func newLineReader(r io.Reader, off int64) *lineReader {
	return &lineReader{r: r, buf: make([]byte, 256<<10), off: off}
}

// next returns the next line without its newline, the line's offset, and
// whether a newline terminated it (false only for a final, torn line). At
// the end of the stream it returns io.EOF.
func (lr *lineReader) next() (line []byte, off int64, complete bool, err error) {
	scanned := 0
	for {
		if i := bytes.IndexByte(lr.buf[lr.start+scanned:lr.end], '\n'); i >= 0 {
			n := scanned + i
			line = lr.buf[lr.start : lr.start+n]
			off = lr.off
			lr.start += n + 1
			lr.off += int64(n + 1)
			return line, off, true, nil
		}
		scanned = lr.end - lr.start
		if lr.err != nil {
			if scanned == 0 {
				return nil, lr.off, false, lr.err
			}
			line, off = lr.buf[lr.start:lr.end], lr.off
			lr.off += int64(scanned)
			lr.start = lr.end
			if lr.err == io.EOF {
				return line, off, false, nil
			}
			return nil, off, false, lr.err
		}
		if scanned > format.MaxLineSize {
			return nil, lr.off, false, fmt.Errorf("line at offset %d is longer than %d bytes", lr.off, format.MaxLineSize)
		}
		lr.fill()
	}
}

func (lr *lineReader) fill() {
	if lr.start > 0 {
		copy(lr.buf, lr.buf[lr.start:lr.end])
		lr.end -= lr.start
		lr.start = 0
	}
	if lr.end == len(lr.buf) {
		lr.buf = append(lr.buf, make([]byte, len(lr.buf))...)
	}
	n, err := lr.r.Read(lr.buf[lr.end:])
	lr.end += n
	if err != nil {
		lr.err = err
	}
	if errors.Is(lr.err, io.ErrUnexpectedEOF) {
		lr.err = io.EOF
	}
}
