package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/sealog/sealog"
)

// chunk is a run of parsed stdin lines handed from the reader to the
// committer. The last chunk has done set, and err when a line was bad.
type chunk struct {
	evs   []sealog.Event
	lines []int
	done  bool
	err   error // what was wrong with line errLine; nil at a clean end
	errAt int
}

// chunkSize is how many events the reader hands over at once, unless
// stdin has no more data ready.
const chunkSize = 256

// pipelineDepth is how many batches may be in flight at once: one being
// written and fsynced while the next ones are prepared and queued.
const pipelineDepth = 3

// appendStdin reads events from stdin, one JSON line each, and commits
// them in batches: as many as are ready, up to maxStdinBatch, with a few
// batches in flight so that preparing one overlaps committing another
// (Log.Submit keeps their order). Whenever stdin has nothing more ready,
// the batches in flight are finished and their receipts flushed, so an
// interactive pipe gets its receipts at once.
func appendStdin(e *env, l *sealog.Log, out *bufio.Writer, limit int) error {
	ch := make(chan *chunk, 64)
	stop := make(chan struct{})
	defer close(stop)
	go readEvents(e.stdin, limit, ch, stop)

	type inflight struct {
		p     *sealog.Pending
		lines []int
	}
	var (
		batch     []sealog.Event
		lines     []int
		queue     []inflight
		appended  int
		firstSeq  uint64
		lastSeq   uint64
		lastLine  int
		end       *chunk
		commitErr error
		failedAt  int // the first input line of the batch that failed
	)
	fail := func(err error, ls []int) {
		if commitErr == nil {
			commitErr = fmt.Errorf("appending %s: %s", lineRange(ls[0], ls[len(ls)-1]), trimSealog(err))
			failedAt = ls[0]
		}
	}
	finishOne := func() {
		f := queue[0]
		queue = queue[1:]
		rs, err := f.p.Wait(context.Background())
		if err != nil || commitErr != nil {
			fail(err, f.lines)
			return
		}
		writeReceipts(out, rs, f.lines)
		if appended == 0 {
			firstSeq = rs[0].Seq
		}
		appended += len(rs)
		lastSeq = rs[len(rs)-1].Seq
		lastLine = f.lines[len(f.lines)-1]
	}
	drain := func() {
		for len(queue) > 0 {
			finishOne()
		}
	}
	commit := func() {
		if len(batch) == 0 || commitErr != nil {
			return
		}
		p, err := l.Submit(context.Background(), batch)
		if err != nil {
			drain()
			fail(err, lines)
			return
		}
		queue = append(queue, inflight{p: p, lines: lines})
		batch, lines = nil, nil // Submit has encoded the events; the lines go with the receipts
		for len(queue) > pipelineDepth {
			finishOne()
		}
	}
	for end == nil && commitErr == nil {
		var ck *chunk
		select {
		case ck = <-ch:
		default:
			drain()
			out.Flush()
			select {
			case ck = <-ch:
			case <-e.ctx.Done():
				ck = &chunk{done: true, err: errInterrupted}
			}
		}
		for {
			batch = append(batch, ck.evs...)
			lines = append(lines, ck.lines...)
			if ck.done {
				end = ck
				break
			}
			if len(batch) >= maxStdinBatch {
				break
			}
			select {
			case ck = <-ch:
				continue
			default:
			}
			break
		}
		commit()
	}
	drain()
	// done says which input lines were appended, up to line upto.
	done := func(upto int) string {
		verb := "were"
		if upto == 1 {
			verb = "was"
		}
		switch {
		case appended == 0:
			return "nothing was appended"
		case appended == 1:
			return fmt.Sprintf("%s %s appended (1 event, seq %d)", lineRange(1, upto), verb, firstSeq)
		}
		return fmt.Sprintf("%s %s appended (%d events, seq %d–%d)", lineRange(1, upto), verb, appended, firstSeq, lastSeq)
	}
	switch {
	case commitErr != nil:
		return ioError("%v", commitErr).withHint("%s; line %d and the rest were not", done(failedAt-1), failedAt)
	case end.err == errInterrupted:
		return ioError("interrupted").withHint("%s; the rest of stdin was not read", done(lastLine))
	case end.err != nil:
		if appended == 0 {
			return ioError("stdin line %d: %v", end.errAt, end.err).withHint("nothing was appended: line %d and the rest were not", end.errAt)
		}
		return ioError("stdin line %d: %v", end.errAt, end.err).withHint("%s; line %d and the rest were not", done(end.errAt-1), end.errAt)
	case appended == 0:
		fmt.Fprintln(e.stderr, "sealog: no events on stdin; nothing appended")
	}
	return nil
}

var errInterrupted = errors.New("interrupted")

// readEvents reads and parses stdin lines and sends them in chunks on ch,
// ending with a chunk marked done. It stops early when stop is closed.
func readEvents(r io.Reader, limit int, ch chan<- *chunk, stop <-chan struct{}) {
	br := bufio.NewReaderSize(r, limit+4096)
	cur := &chunk{}
	send := func(c *chunk) bool {
		select {
		case ch <- c:
			return true
		case <-stop:
			return false
		}
	}
	fail := func(n int, err error) {
		cur.done, cur.err, cur.errAt = true, err, n
		send(cur)
	}
	arena := make([]byte, 0, 1<<20)
	for n := 1; ; n++ {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			fail(n, fmt.Errorf("the line is over %d bytes, the limit (--max-event-size)", limit))
			return
		}
		if err != nil && err != io.EOF {
			fail(n, fmt.Errorf("reading stdin: %v", err))
			return
		}
		eof := err == io.EOF
		line = bytes.TrimRight(line, "\r\n")
		if len(line) > limit {
			fail(n, fmt.Errorf("the line is %d bytes, over the %d-byte limit (--max-event-size)", len(line), limit))
			return
		}
		if len(bytes.TrimSpace(line)) > 0 {
			if cap(arena)-len(arena) < 64<<10 {
				arena = make([]byte, 0, max(1<<20, len(line)))
			}
			ev, ar, perr := parseEvent(line, arena)
			if perr != nil {
				fail(n, perr)
				return
			}
			arena = ar
			cur.evs = append(cur.evs, ev.event())
			cur.lines = append(cur.lines, n)
		}
		if eof {
			cur.done = true
			send(cur)
			return
		}
		if len(cur.evs) >= chunkSize || (br.Buffered() == 0 && len(cur.evs) > 0) {
			if !send(cur) {
				return
			}
			cur = &chunk{evs: make([]sealog.Event, 0, chunkSize), lines: make([]int, 0, chunkSize)}
		}
	}
}
