package verify

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/sealog/sealog/format"
)

// The verifier streams: a reader goroutine cuts segments into chunks of
// whole lines, worker goroutines parse and hash the lines of a chunk
// (the costly part, on every core), and the checker takes the chunks back
// in order for what must be sequential: seq order, the chain, the tree.
// Memory is bounded by the chunks in flight, whatever the log's size.

// stream runs the reader, the workers and the checker over the segments.
func stream(ctx context.Context, segs []Segment, ch *checker, opts Options, total int64) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// At most about 3×Workers chunks are in flight: that, and chunkSize,
	// is the verifier's memory.
	work := make(chan *chunk, opts.Workers)
	ordered := make(chan *chunk, 2*opts.Workers)
	var read atomic.Int64
	go readSegments(ctx, segs, work, ordered, &read)
	var wg sync.WaitGroup
	for range opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			analyzeChunks(work)
		}()
	}
	defer wg.Wait()
	n := 0
	for c := range ordered {
		<-c.done
		if c.readErr != nil {
			cancel()
			for range ordered {
			}
			return fmt.Errorf("reading segment %s: %w", segs[c.seg].Name, c.readErr)
		}
		if c.end {
			ch.segmentEnd(c, c.seg == len(segs)-1)
			continue
		}
		sg := segs[c.seg]
		for i := range c.res {
			ch.line(&c.res[i], place{segi: c.seg, seg: sg.Name, line: c.line + i})
		}
		c.release()
		if n++; opts.Progress != nil && n%16 == 0 {
			opts.Progress(read.Load(), total)
		}
	}
	if opts.Progress != nil {
		opts.Progress(read.Load(), total)
	}
	return ctx.Err()
}

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

	bodyHash format.Hash    // of an erased entry
	record   format.Erasure // what an erasure record names, when isRecord
	isRecord bool
	rotation *format.Rotation // what a rotation record names
	prune    format.Prune     // what a prune record says, when isPrune
	isPrune  bool
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 2*chunkSize); return &b }}

// resPool recycles the per-line results of chunks.
var resPool = sync.Pool{New: func() any { r := make([]lineResult, 0, chunkSize/256); return &r }}

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
	if l.Erased {
		r.bodyHash = l.BodyHash
	} else {
		r.record, r.isRecord = format.ParseErasure(l.Event)
		if rot, ok := format.ParseRotation(l.Event); ok {
			r.rotation = &rot
		}
		if !r.isRecord {
			r.prune, r.isPrune = format.ParsePrune(l.Event)
		}
	}
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
