package verify

import (
	"bytes"
	"context"
	"io"
	"sync"
	"sync/atomic"

	"github.com/sealog/sealog/format"
)

// The verifier streams: a reader goroutine cuts segments into chunks of
// whole lines, worker goroutines parse and hash the lines of a chunk
// (the costly part, on every core), and the checker takes the chunks back
// in order for what must be sequential: seq order, the chain, the tree.
// Memory is bounded by the chunks in flight, whatever the log's size.

// chunkSize is the amount of a segment read at a time. With the chunks in
// flight (see stream) it bounds the verifier's memory.
const chunkSize = 256 << 10

// chunk is a run of whole lines from one segment, or a segment's end.
type chunk struct {
	seg  int // index in the segment list
	line int // line number (from 1) of the first line
	data []byte
	buf  *[]byte // pooled buffer data lives in

	// At a segment's end (end set): what followed the last whole line.
	end     bool
	torn    []byte // a final line without newline
	padding int64  // NUL bytes after the data
	damaged string // unreadable bytes after the data, described
	readErr error

	res  []lineResult
	resp *[]lineResult // pooled storage of res
	done chan struct{}
}

// lineResult is what a worker found on one line.
type lineResult struct {
	seq    uint64
	time   int64
	prev   format.Hash
	leaf   format.Hash
	erased bool
	sig    []byte
	err    error
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 2*chunkSize); return &b }}

// resPool recycles the per-line results of chunks.
var resPool = sync.Pool{New: func() any { r := make([]lineResult, 0, chunkSize/256); return &r }}

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
		return send(&chunk{seg: i, end: true, readErr: err})
	}
	defer rc.Close()
	r := countingReader{rc, readBytes}
	line := 1
	bp := bufPool.Get().(*[]byte)
	buf := (*bp)[:0]
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
		eof := err == io.EOF || err == io.ErrUnexpectedEOF
		if err != nil && !eof {
			return send(&chunk{seg: i, line: line, end: true, readErr: err})
		}
		if z := bytes.IndexByte(buf, 0); z >= 0 {
			// NUL bytes: preallocated space (legitimate at the end of the
			// last segment) or damage. Whole lines before them are data.
			// Look at what follows before handing the buffer on.
			ls := bytes.LastIndexByte(buf[:z], '\n') + 1
			end := &chunk{seg: i, end: true, torn: append([]byte(nil), buf[ls:z]...)}
			end.padding, end.damaged = restIsNUL(buf[z:], r, eof)
			if ls > 0 {
				if !send(&chunk{seg: i, line: line, data: buf[:ls], buf: bp}) {
					return false
				}
				line += bytes.Count(buf[:ls], []byte{'\n'})
			}
			end.line = line
			return send(end)
		}
		last := bytes.LastIndexByte(buf, '\n')
		if eof {
			if last+1 > 0 && !send(&chunk{seg: i, line: line, data: buf[:last+1], buf: bp}) {
				return false
			}
			line += bytes.Count(buf[:last+1], []byte{'\n'})
			return send(&chunk{seg: i, line: line, end: true, torn: append([]byte(nil), buf[last+1:]...)})
		}
		if last < 0 {
			if len(buf) > format.MaxLineSize {
				return send(&chunk{seg: i, line: line, end: true, damaged: "a line longer than 4 MiB"})
			}
			continue // a long line: read more
		}
		next := bufPool.Get().(*[]byte)
		*next = append((*next)[:0], buf[last+1:]...)
		if !send(&chunk{seg: i, line: line, data: buf[:last+1], buf: bp}) {
			return false
		}
		line += bytes.Count(buf[:last+1], []byte{'\n'})
		bp, buf = next, *next
	}
}

// restIsNUL reads the rest of a segment and reports how many NUL bytes
// follow, or describes what else it found.
func restIsNUL(head []byte, r io.Reader, eof bool) (int64, string) {
	n := int64(0)
	isNUL := func(b []byte) bool {
		for _, c := range b {
			if c != 0 {
				return false
			}
		}
		return true
	}
	if !isNUL(head) {
		return 0, "NUL bytes followed by data inside the segment"
	}
	n += int64(len(head))
	if eof {
		return n, ""
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

// analyzeChunks parses and hashes the lines of chunks (a worker).
func analyzeChunks(in <-chan *chunk) {
	for c := range in {
		data := c.data
		rp := resPool.Get().(*[]lineResult)
		res := (*rp)[:0]
		for len(data) > 0 {
			i := bytes.IndexByte(data, '\n')
			line := data[:i]
			data = data[i+1:]
			res = append(res, analyze(line))
		}
		c.res, c.resp = res, rp
		close(c.done)
	}
}

// analyze parses one line and hashes it: the per-line work that runs in
// parallel.
func analyze(line []byte) lineResult {
	var r lineResult
	l, err := format.ParseLine(line)
	if err != nil {
		r.err = err
		return r
	}
	h := l.Header()
	r.seq, r.time, r.prev, r.leaf, r.erased = l.Seq, l.Time, l.Prev, h.LeafHash(), l.Erased
	r.sig = l.Sig
	return r
}

// release returns a chunk's buffers to their pools.
func (c *chunk) release() {
	if c.buf != nil {
		*c.buf = (*c.buf)[:0]
		bufPool.Put(c.buf)
		c.buf = nil
	}
	if c.resp != nil {
		clear(c.res) // drop references to signatures
		*c.resp = c.res[:0]
		resPool.Put(c.resp)
		c.resp, c.res = nil, nil
	}
}
