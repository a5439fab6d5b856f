package verify

import (
	"bytes"
	"context"
	"io"
	"os"
	"sync/atomic"

	"github.com/sealog/sealog/format"
)

// The reader: it cuts segments into chunks of whole lines, and finds
// where a segment ends (docs/FORMAT.md section 3.3): at its end, at NUL
// padding (whose holes it skips), a torn line, or damage, which ends the
// segment. It holds at most one line of format.MaxLineSize bytes.

// readSegments cuts the segments into chunks and sends each twice: to the
// workers (work) and, in order, to the checker (out).
func readSegments(ctx context.Context, segs []Segment, work, out chan<- *chunk, readBytes *atomic.Int64) {
	defer close(work)
	defer close(out)
	send := func(c *chunk) bool {
		c.done = make(chan struct{})
		select {
		case out <- c:
		case <-ctx.Done():
			return false
		}
		if c.end {
			close(c.done)
			return true
		}
		select {
		case work <- c:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for i, sg := range segs {
		if !readSegment(ctx, i, sg, send, readBytes) {
			return
		}
	}
}

// countingReader counts the bytes read from the stored file.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func readSegment(ctx context.Context, i int, sg Segment, send func(*chunk) bool, readBytes *atomic.Int64) bool {
	rc, err := sg.Open()
	if err != nil {
		if d := damage(err); d != "" {
			return send(&chunk{seg: i, line: 1, end: true, damaged: d})
		}
		return send(&chunk{seg: i, end: true, readErr: err})
	}
	defer rc.Close()
	file, _ := rc.(*os.File) // a plain segment: holes can be skipped
	var pos int64            // bytes read from rc
	r := countingReader{rc, readBytes}
	line := 1
	bp := bufPool.Get().(*[]byte)
	buf := (*bp)[:0]
	// sendLines sends whole lines; a line longer than format.MaxLineSize
	// is damage that ends the segment (it reports false, with stop false
	// when the segment's end was sent).
	sendLines := func(data []byte) (ok, stop bool) {
		long := -1
		if len(data) > format.MaxLineSize {
			for s := 0; s < len(data); {
				e := bytes.IndexByte(data[s:], '\n') + s + 1
				if e-s > format.MaxLineSize {
					long = s
					break
				}
				s = e
			}
		}
		whole := data
		if long >= 0 {
			whole = data[:long]
		}
		if len(whole) > 0 {
			if !send(&chunk{seg: i, line: line, data: whole, buf: bp}) {
				return false, true
			}
			line += bytes.Count(whole, []byte{'\n'})
		}
		if long >= 0 {
			return false, !send(&chunk{seg: i, line: line, end: true, damaged: "a line longer than 4 MiB"})
		}
		return true, false
	}
	for {
		if ctx.Err() != nil {
			return false
		}
		if cap(buf)-len(buf) < chunkSize/2 {
			grown := make([]byte, len(buf), 2*cap(buf))
			copy(grown, buf)
			buf = grown
		}
		n, err := io.ReadFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		pos += int64(n)
		eof := err == io.EOF || err == io.ErrUnexpectedEOF
		var damaged string
		if err != nil && !eof {
			if damaged = damage(err); damaged == "" {
				return send(&chunk{seg: i, line: line, end: true, readErr: err})
			}
			eof = true // what decoded before the damage is read; then the damage
		}
		if z := bytes.IndexByte(buf, 0); z >= 0 {
			// NUL bytes: preallocated space (legitimate at the end of the
			// last segment) or damage. Whole lines before them are data.
			ls := bytes.LastIndexByte(buf[:z], '\n') + 1
			end := &chunk{seg: i, end: true, torn: append([]byte(nil), buf[ls:z]...)}
			switch {
			case len(end.torn) >= format.MaxLineSize:
				end.torn, end.damaged = nil, "a line longer than 4 MiB"
			case sg.Compressed:
				end.damaged = "NUL bytes in a compressed segment" // sealed: never padded
			case sg.Atomic:
				end.damaged = "NUL bytes in a stored line" // a database holds no padding
			case damaged != "":
				end.damaged = damaged
			default:
				end.padding, end.damaged = restIsNUL(buf[z:], r, file, pos, eof)
			}
			if ok, stop := sendLines(buf[:ls]); !ok {
				return !stop
			}
			end.line = line
			return send(end)
		}
		last := bytes.LastIndexByte(buf, '\n')
		if last >= 0 {
			if ok, stop := sendLines(buf[:last+1]); !ok {
				return !stop
			}
			next := bufPool.Get().(*[]byte)
			*next = append((*next)[:0], buf[last+1:]...)
			bp, buf = next, *next
		}
		switch {
		case len(buf) >= format.MaxLineSize:
			return send(&chunk{seg: i, line: line, end: true, damaged: "a line longer than 4 MiB"})
		case damaged != "":
			return send(&chunk{seg: i, line: line, end: true, damaged: damaged})
		case eof:
			return send(&chunk{seg: i, line: line, end: true, torn: append([]byte(nil), buf...)})
		}
	}
}

// restIsNUL reads the rest of a segment and reports how many NUL bytes
// follow, or describes what else it found. head is what was read already
// from the first NUL on; pos is the offset after it in file, when the
// segment is a plain file, whose holes are then skipped rather than read.
func restIsNUL(head []byte, r io.Reader, file *os.File, pos int64, eof bool) (int64, string) {
	if !isNUL(head) {
		return 0, "NUL bytes followed by data inside the segment"
	}
	n := int64(len(head))
	if eof {
		return n, ""
	}
	if file != nil {
		m, bad := fileRestIsNUL(file, pos)
		return n + m, bad
	}
	buf := make([]byte, 256<<10)
	for {
		m, err := r.Read(buf)
		if !isNUL(buf[:m]) {
			return 0, "NUL bytes followed by data inside the segment"
		}
		n += int64(m)
		if err == io.EOF {
			return n, ""
		}
		if err != nil {
			return 0, "unreadable after NUL bytes: " + err.Error()
		}
	}
}

func isNUL(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
