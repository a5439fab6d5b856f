//go:build unix

package file

import (
	"bytes"
	"io"

	"github.com/sealog/sealog/format"
)

// What follows the last entry recovery can fold in. A writer has at most
// maxUnsynced (2) batches in flight: the one whose fdatasync runs, and the
// one staged behind it (Stage), each written after everything before
// the batch ahead of it was fdatasynced, into space that is zero-filled
// or past the end of the file. So what a crash leaves after the last
// acknowledged batch is those batches, or a part of them, then NUL
// bytes:
//
//   - a process kill (SIGKILL, a panic) leaves a prefix of the batch: the
//     page cache survives, and a write copies its bytes in order;
//   - a power cut can also leave holes: the pages of the batch that were
//     not written back read as the zeros that were there before. A hole
//     therefore starts at a sector boundary (or where the batch starts, a
//     line start) and ends at a sector boundary.
//
// Anything else is damage: NUL bytes that end inside a sector and are
// followed by data, a complete line that fails its checks, a line longer
// than any entry, and above all more batches after the stop than can be
// in flight (each signed line ends one; unsigned data after the last
// signed line is one more). Damage is cut as never
// acknowledged only when no signature covers it; otherwise Open refuses
// the log (store.ErrCorrupt) and changes nothing.

// holeGranule is the sector size a hole left by a power cut is aligned to
// (512 bytes: disks tear no finer; pages are a multiple of it).
const holeGranule = 512

// lineKind is what lineReader.scan found.
type lineKind int

const (
	lineEOF  lineKind = iota // the end of the stream, at a line boundary
	lineOK                   // a complete line without NUL bytes
	lineNUL                  // a NUL byte before the next newline
	lineTorn                 // bytes without newline or NUL up to the end
	lineLong                 // format.MaxLineSize bytes without newline or NUL
)

// scan is next for recovery: it stops at NUL bytes rather than reading
// padding as a line. After anything but lineOK, the reader is not
// advanced and must not be used again.
func (lr *lineReader) scan() (line []byte, off int64, kind lineKind, err error) {
	scanned := 0
	for {
		region := lr.buf[lr.start+scanned : lr.end]
		nl := bytes.IndexByte(region, '\n')
		upto := region
		if nl >= 0 {
			upto = region[:nl]
		}
		if z := bytes.IndexByte(upto, 0); z >= 0 {
			return lr.buf[lr.start : lr.start+scanned+z], lr.off, lineNUL, nil
		}
		if nl >= 0 {
			n := scanned + nl
			line, off = lr.buf[lr.start:lr.start+n], lr.off
			lr.start += n + 1
			lr.off += int64(n + 1)
			return line, off, lineOK, nil
		}
		scanned = lr.end - lr.start
		if lr.err != nil {
			switch {
			case lr.err != io.EOF:
				return nil, lr.off, lineEOF, lr.err
			case scanned == 0:
				return nil, lr.off, lineEOF, nil
			}
			return lr.buf[lr.start:lr.end], lr.off, lineTorn, nil
		}
		if scanned >= format.MaxLineSize {
			return nil, lr.off, lineLong, nil
		}
		lr.fill()
	}
}

// tailInfo describes the bytes of a segment from an offset to its end.
type tailInfo struct {
	dataEnd int64 // just past the last byte that is not NUL (the start, if none)
	signed  int   // lines with a signature member after their last NUL byte, if any
	sigEnd  int64 // the end of the last of them
	oddHole int64 // the start of the first run of NULs followed by data that a crash cannot leave, or -1
	holes   int   // runs of NULs followed by data
}

// analyzeTail reads [from, size) of r. prev is the byte before from ('\n'
// when from is a line start).
func analyzeTail(r io.ReaderAt, from, size int64, prev byte) (tailInfo, error) {
	ti := tailInfo{dataEnd: from, oddHole: -1}
	buf := make([]byte, 1<<20)
	var line []byte  // the current line since its start or its last NUL byte
	lineBad := false // longer than any line
	inRun, runOK := false, false
	var runStart int64
	endRun := func(at int64) {
		inRun = false
		ti.holes++
		if (!runOK || at%holeGranule != 0) && ti.oddHole < 0 {
			ti.oddHole = runStart
		}
	}
	for pos := from; pos < size; {
		n, err := r.ReadAt(buf[:min(int64(len(buf)), size-pos)], pos)
		b := buf[:n]
		for i := 0; i < len(b); {
			if inRun {
				j := nonZero(b[i:])
				i += j
				if i == len(b) {
					break
				}
				endRun(pos + int64(i))
				continue
			}
			if b[i] == 0 {
				inRun, runStart = true, pos+int64(i)
				runOK = runStart%holeGranule == 0 || prev == '\n'
				line, lineBad = line[:0], false // judge what follows the hole on its own
				continue
			}
			// Data up to the next NUL, line by line.
			rest := b[i:]
			if z := bytes.IndexByte(rest, 0); z >= 0 {
				rest = rest[:z]
			}
			for len(rest) > 0 {
				nl := bytes.IndexByte(rest, '\n')
				part := rest
				if nl >= 0 {
					part = rest[:nl]
				}
				if !lineBad {
					if len(line)+len(part) > format.MaxLineSize {
						lineBad, line = true, line[:0]
					} else {
						line = append(line, part...)
					}
				}
				i += len(part)
				if nl < 0 {
					prev = part[len(part)-1]
					break
				}
				i++ // the newline
				at := pos + int64(i)
				if !lineBad && hasSig(line) {
					ti.signed++
					ti.sigEnd = at
				}
				line, lineBad, prev = line[:0], false, '\n'
				rest = rest[nl+1:]
			}
			ti.dataEnd = pos + int64(i)
		}
		pos += int64(n)
		if err != nil && err != io.EOF {
			return ti, err
		}
		if n == 0 {
			break
		}
	}
	return ti, nil
}

var zeroBlock [4096]byte

// nonZero returns the index of the first byte of b that is not 0, or
// len(b).
func nonZero(b []byte) int {
	i := 0
	for i+len(zeroBlock) <= len(b) && bytes.Equal(b[i:i+len(zeroBlock)], zeroBlock[:]) {
		i += len(zeroBlock)
	}
	for i < len(b) && b[i] == 0 {
		i++
	}
	return i
}
