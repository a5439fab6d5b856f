package compat

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"runtime"
	"slices"
	"sync"
)

// Records stream through a three-stage pipeline: one goroutine reads lines
// into batches, workers parse and hash batches in parallel, and the calling
// goroutine consumes the batches in file order to run the checks that link
// one record to the previous. At most a few batches are in flight, so
// memory stays flat whatever the size of the log.

const (
	batchLines = 1024    // lines per batch
	batchBytes = 1 << 19 // bytes per batch, whichever comes first
)

// MaxLineSize is the longest line the readers hold in memory. A longer
// line is not kept: Spine and spanforge report it as a bad record ("longer
// than 16 MiB"); an immutable-logging line is hashed as it streams by, so
// it is still checked exactly. Memory stays flat whatever the input.
const MaxLineSize = 16 << 20

// longPrefix is how much of a line longer than MaxLineSize is kept, to
// show it.
const longPrefix = 256

var errStopped = errors.New("pipeline stopped")

type job[B any] struct {
	b    B
	done chan struct{}
}

// pipeline runs produce in a goroutine, a worker's function on each batch in parallel and
// consume on each batch in the order produce emitted them. It returns the
// first error of consume, produce or ctx.
// newWork is called once per worker goroutine, so each worker can keep its
// own parser and hash state.
func pipeline[B any](ctx context.Context, produce func(emit func(B) error) error, newWork func() func(B), consume func(B) error) error {
	workers := min(runtime.GOMAXPROCS(0), 8)
	jobs := make(chan *job[B], workers)
	order := make(chan *job[B], 2*workers+2)
	stop := make(chan struct{})
	var prodErr error
	go func() {
		defer close(order)
		defer close(jobs)
		prodErr = produce(func(b B) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			j := &job[B]{b: b, done: make(chan struct{})}
			select {
			case order <- j:
			case <-stop:
				return errStopped
			}
			select {
			case jobs <- j:
			case <-stop:
				return errStopped
			}
			return nil
		})
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work := newWork()
			for j := range jobs {
				work(j.b)
				close(j.done)
			}
		}()
	}
	var err error
	for j := range order {
		if err != nil {
			continue // draining after an error
		}
		<-j.done
		if err = consume(j.b); err == nil {
			err = ctx.Err()
		}
		if err != nil {
			close(stop)
		}
	}
	wg.Wait()
	if err != nil {
		return err
	}
	if prodErr != nil && !errors.Is(prodErr, errStopped) {
		return prodErr
	}
	return ctx.Err()
}

// lineReader splits a stream on '\n' only. A line of up to MaxLineSize
// bytes is returned whole; of a longer one, only its first longPrefix
// bytes, with Long set and Hash holding SHA-256 of the whole line so far
// (the caller may add to it), while the rest streams by.
type lineReader struct {
	br   *bufio.Reader
	long []byte
	name string
	n    int // lines returned so far
	// Long says the last line returned was longer than MaxLineSize; Hash
	// has then hashed all of it.
	Long bool
	Hash hash.Hash
}

func newLineReader(r io.Reader, name string) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, 1<<20), name: name}
}

// next returns the next line without its '\n' and whether a '\n' ended it.
// A final '\n' ends the last line; it does not start an empty one. ok is
// false at the end. The line is valid until the next call.
func (lr *lineReader) next() (line []byte, nl, ok bool, err error) {
	lr.Long, lr.Hash = false, nil
	s, err := lr.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		lr.long = append(lr.long[:0], s...)
		for err == bufio.ErrBufferFull {
			s, err = lr.br.ReadSlice('\n')
			if !lr.Long && len(lr.long)+len(s) > MaxLineSize {
				lr.Long, lr.Hash = true, sha256.New()
				lr.Hash.Write(lr.long)
				lr.long = lr.long[:longPrefix]
			}
			if lr.Long {
				lr.Hash.Write(bytes.TrimSuffix(s, []byte("\n")))
				if len(s) > 0 && s[len(s)-1] == '\n' {
					lr.long = append(lr.long, '\n')
				}
				continue
			}
			lr.long = append(lr.long, s...)
		}
		s = lr.long
	}
	if err != nil && err != io.EOF {
		return nil, false, false, fmt.Errorf("read %s after line %d: %w", lr.name, lr.n, err)
	}
	if len(s) == 0 {
		return nil, false, false, nil
	}
	lr.n++
	if s[len(s)-1] == '\n' {
		return s[:len(s)-1], true, true, nil
	}
	return s, false, true, nil
}

// lineBatch is a batch of lines; line k is data[start[k]:end[k]].
type lineBatch struct {
	data       []byte
	start, end []int
	lines      []int  // 1-based line number of each line in its file
	nl         []bool // whether a '\n' ended the line
	file       []int  // index of the line's file (Spine segments)
	long       []bool // the line was longer than MaxLineSize: only its start is kept
}

func (b *lineBatch) reset() {
	if cap(b.data) == 0 {
		b.data = make([]byte, 0, batchBytes+64<<10)
	}
	b.data, b.start, b.end, b.lines, b.nl, b.file, b.long = b.data[:0], b.start[:0], b.end[:0], b.lines[:0], b.nl[:0], b.file[:0], b.long[:0]
}

// add copies line into the batch.
func (b *lineBatch) add(line []byte, lineNo int, nl bool, file int) {
	s := len(b.data)
	b.data = append(b.data, line...)
	b.addRef(s, len(b.data), lineNo, nl, file)
}

// addRef adds the line data[s:e].
func (b *lineBatch) addRef(s, e, lineNo int, nl bool, file int) {
	b.start = append(b.start, s)
	b.end = append(b.end, e)
	b.lines = append(b.lines, lineNo)
	b.nl = append(b.nl, nl)
	b.file = append(b.file, file)
	b.long = append(b.long, false)
}

func (b *lineBatch) len() int { return len(b.end) }

func (b *lineBatch) line(k int) []byte { return b.data[b.start[k]:b.end[k]] }

func (b *lineBatch) full() bool { return len(b.end) >= batchLines || len(b.data) >= batchBytes }

// splitter reads a file straight into batches and splits it on '\n' only,
// without copying lines one by one.
type splitter struct {
	r      io.Reader
	name   string
	carry  []byte // the unfinished line at the end of the last batch
	eof    bool
	skip   bool // inside a line longer than MaxLineSize: drop input up to its '\n'
	lineNo int
}

// fill adds lines to b until b is full or the input ends (done). Blank
// lines (only spaces, tabs, CR) are counted but not added when skipBlank.
// A line of up to MaxLineSize bytes is kept whole; of a longer one only
// its first longPrefix bytes, marked long, and the rest is dropped as it
// is read.
func (s *splitter) fill(b *lineBatch, file int, skipBlank bool) (done bool, err error) {
	pos := len(b.data)
	b.data = append(b.data, s.carry...)
	s.carry = s.carry[:0]
	for {
		if s.skip {
			i := bytes.IndexByte(b.data[pos:], '\n')
			if i < 0 {
				b.data = b.data[:pos]
			} else {
				b.data = append(b.data[:pos], b.data[pos+i+1:]...)
				s.skip = false
			}
		}
		for !s.skip {
			i := bytes.IndexByte(b.data[pos:], '\n')
			if i < 0 {
				break
			}
			s.lineNo++
			if i > MaxLineSize { // whole, but too long: keep its start only
				b.addRef(pos, pos+longPrefix, s.lineNo, true, file)
				b.long[len(b.long)-1] = true
				b.data = append(b.data[:pos+longPrefix], b.data[pos+i+1:]...)
				pos += longPrefix
				continue
			}
			if !skipBlank || len(trimLine(b.data[pos:pos+i])) > 0 {
				b.addRef(pos, pos+i, s.lineNo, true, file)
			}
			pos += i + 1
		}
		if !s.skip && len(b.data)-pos > MaxLineSize {
			s.lineNo++
			b.addRef(pos, pos+longPrefix, s.lineNo, true, file)
			b.long[len(b.long)-1] = true
			pos += longPrefix
			b.data, s.skip = b.data[:pos], true
		}
		if s.eof {
			if pos < len(b.data) && !s.skip {
				s.lineNo++
				if !skipBlank || len(trimLine(b.data[pos:])) > 0 {
					b.addRef(pos, len(b.data), s.lineNo, false, file)
				}
			}
			return true, nil
		}
		// Full when its whole lines fill it: what follows them is an
		// unfinished line, carried to the next batch. (Testing the data
		// with that line would return at once, again and again, for a
		// batch that is not full at all.)
		if b.len() > 0 && (b.len() >= batchLines || pos >= batchBytes) {
			s.carry = append(s.carry, b.data[pos:]...)
			b.data = b.data[:pos]
			return false, nil
		}
		if cap(b.data)-len(b.data) < 64<<10 {
			b.data = slices.Grow(b.data, max(len(b.data), batchBytes))
		}
		n, err := s.r.Read(b.data[len(b.data):cap(b.data)])
		b.data = b.data[:len(b.data)+n]
		if err == io.EOF {
			s.eof = true
		} else if err != nil {
			return false, fmt.Errorf("read %s after line %d: %w", s.name, s.lineNo, err)
		}
	}
}

// trimLine trims spaces, tabs and CR from both ends.
func trimLine(s []byte) []byte {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t' || s[0] == '\r') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	return s
}
