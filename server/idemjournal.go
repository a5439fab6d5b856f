package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/sealog/sealog/internal/durable"
)

// idemRecord is one line of the idempotency journal (docs/API.md,
// "Idempotency"). A key is recorded "begin" before its events are handed
// to the log, durably; "done" with the entries it got once they are
// committed; "abort" when the append failed. done and abort lines are
// not synced on their own: a crash that loses one leaves the key begun,
// and reopening settles it by looking for its events in the log.
type idemRecord struct {
	Op    string `json:"op"`              // "begin", "done" or "abort"
	Key   string `json:"key"`             // hex SHA-256 of the token ID, a NUL and the key
	Req   string `json:"req,omitempty"`   // begin: hex SHA-256 of the request's canonical events
	Head  string `json:"head,omitempty"`  // begin: hex SHA-256 of its first event
	N     uint64 `json:"n,omitempty"`     // begin: the number of events
	From  uint64 `json:"from,omitempty"`  // begin: the log's size when the request came
	First uint64 `json:"first,omitempty"` // done: the seq of the first entry
	Size  uint64 `json:"size,omitempty"`  // done: the size of the batch's checkpoint
	Time  int64  `json:"t"`               // Unix seconds
}

// journal is the idempotency journal file, appended by one goroutine
// that groups writes: one write and one fdatasync for every begin record
// waiting, however many.
type journal struct {
	path string
	f    *durable.File // owned by run once it started
	reqs chan journalReq
	done chan struct{}
	// When more than limit lines were written since the file was last
	// rewritten, run rewrites it from snapshot (the live keys), so that
	// the file stays bounded however long the server runs.
	limit    int
	snapshot func() []idemRecord
	lines    int // owned by run
	log      func(msg string, err error)
}

type journalReq struct {
	line []byte
	sync chan error // nil: do not wait, do not force a sync
}

var errJournalLost = errors.New("the journal file could not be reopened after a rewrite")

// readJournal reads the records of the journal at path; a missing file
// has none. A torn last line (a crash mid-write) is ignored.
func readJournal(path string) ([]idemRecord, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("idempotency journal: %w", err)
	}
	var recs []idemRecord
	lines := bytes.Split(b, []byte("\n"))
	// The last piece is empty after a final newline, or the torn tail of
	// a crash mid-write: ignored either way.
	for n, line := range lines[:len(lines)-1] {
		var r idemRecord
		if err := json.Unmarshal(line, &r); err != nil || r.Key == "" {
			return nil, fmt.Errorf("idempotency journal %s: line %d is malformed", path, n+1)
		}
		recs = append(recs, r)
	}
	return recs, nil
}

// openJournal replaces the journal at path by snapshot's records
// (atomically) and opens it for appending.
func openJournal(path string, limit int, snapshot func() []idemRecord, log func(string, error)) (*journal, error) {
	j := &journal{path: path, reqs: make(chan journalReq, 1024), done: make(chan struct{}), limit: limit, snapshot: snapshot, log: log}
	if err := j.rewrite(); err != nil {
		return nil, err
	}
	go j.run()
	return j, nil
}

// rewrite replaces the file by the snapshot, durably, and reopens it.
func (j *journal) rewrite() error {
	recs := j.snapshot()
	var b []byte
	for _, r := range recs {
		line, _ := json.Marshal(r)
		b = append(append(b, line...), '\n')
	}
	if err := durable.WriteFile(j.path, b, 0o600); err != nil {
		return fmt.Errorf("idempotency journal: %w", err)
	}
	f, err := durable.OpenFile(j.path, int64(len(b)), 0o600)
	if j.f != nil {
		j.f.Close() // its file was replaced: never write to it again
		j.f = nil
	}
	if err != nil {
		return fmt.Errorf("idempotency journal: %w", err)
	}
	j.f, j.lines = f, len(recs)
	return nil
}

func (j *journal) run() {
	defer close(j.done)
	var buf []byte
	var waiting []chan error
	for r := range j.reqs {
		buf = append(buf[:0], r.line...)
		waiting = waiting[:0]
		if r.sync != nil {
			waiting = append(waiting, r.sync)
		}
	drain:
		for len(buf) < 1<<20 {
			select {
			case r2, ok := <-j.reqs:
				if !ok {
					break drain
				}
				buf = append(buf, r2.line...)
				if r2.sync != nil {
					waiting = append(waiting, r2.sync)
				}
			default:
				break drain
			}
		}
		err := errJournalLost
		if j.f != nil {
			err = j.f.Write(buf)
		}
		if err == nil && len(waiting) > 0 {
			err = j.f.Sync()
		}
		j.lines += bytes.Count(buf, []byte("\n"))
		for _, c := range waiting {
			c <- err
		}
		if err == nil && j.lines > j.limit {
			if err := j.rewrite(); err != nil {
				j.log("rewriting the idempotency journal failed; appending to the old one", err)
			}
		}
	}
}

// write appends rec; with wait it returns once rec is durable.
func (j *journal) write(rec idemRecord, wait bool) error {
	line, _ := json.Marshal(rec)
	line = append(line, '\n')
	if !wait {
		j.reqs <- journalReq{line: line}
		return nil
	}
	c := make(chan error, 1)
	j.reqs <- journalReq{line: line, sync: c}
	if err := <-c; err != nil {
		return fmt.Errorf("idempotency journal: %w", err)
	}
	return nil
}

// close flushes what was written, durably, and closes the file.
func (j *journal) close() error {
	close(j.reqs)
	<-j.done
	if j.f == nil {
		return errJournalLost
	}
	err := j.f.Sync()
	if cerr := j.f.Close(); err == nil {
		err = cerr
	}
	return err
}
