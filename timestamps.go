package sealog

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/store"
)

// A Timestamper obtains RFC 3161 timestamp tokens: package tsa has one
// that asks a time-stamping authority over HTTP. Timestamp returns a DER
// TimeStampResp whose token covers message (the SHA-256 of it is its
// message imprint), or an error; it must honour ctx.
type Timestamper interface {
	Timestamp(ctx context.Context, message []byte) ([]byte, error)
}

// TimestampStatus says how far the log's timestamps reach
// (Log.TimestampStatus).
type TimestampStatus struct {
	// Enabled is false when the log has no Timestamper.
	Enabled bool
	// Size is the largest tree size with a stored timestamp (0: none);
	// Time is when that token was asked for, if it was since the log was
	// opened.
	Size uint64
	Time time.Time
	// Head is the newest committed size the stamper was told of;
	// Head-Size entries are not covered by a timestamp yet (the gap).
	Head uint64
	// Stamped counts tokens stored; Failures counts requests that failed
	// (the TSA down, slow, or answering wrongly) or could not be stored.
	Stamped, Failures int64
	// LastError is the last failure's message ("" after a success).
	LastError string
}

// stamper asks the Timestamper for a token over each committed
// checkpoint, at most one request at a time and at most one per
// Options.TimestampInterval, always for the newest checkpoint: appends
// never wait for it, and a TSA that is down only widens the gap that
// TimestampStatus reports.
type stamper struct {
	ts       Timestamper
	st       store.Timestamps
	interval time.Duration
	timeout  time.Duration
	l        *Log

	wake   chan struct{} // capacity 1: a newer checkpoint is waiting
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex // guards the fields below
	newest []byte     // the newest signed checkpoint committed
	status TimestampStatus
}

func newStamper(l *Log, ts Timestamper, opts Options) (*stamper, error) {
	st, ok := l.st.(store.Timestamps)
	if !ok {
		return nil, fmt.Errorf("sealog: %s: the store cannot keep timestamps (it does not implement store.Timestamps)", l.name)
	}
	s := &stamper{ts: ts, st: st, interval: opts.TimestampInterval, timeout: opts.TimestampTimeout, l: l,
		wake: make(chan struct{}, 1), done: make(chan struct{})}
	if s.timeout <= 0 {
		s.timeout = 10 * time.Second
	}
	s.status.Enabled = true
	var ctx context.Context
	ctx, s.cancel = context.WithCancel(context.Background())
	go s.run(ctx)
	return s, nil
}

// committed is the engine's hook: it notes the newest checkpoint and
// returns at once.
func (s *stamper) committed(size uint64, note []byte) {
	s.mu.Lock()
	if size > s.status.Head {
		s.status.Head = size
		s.newest = append(s.newest[:0], note...)
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *stamper) run(ctx context.Context) {
	defer close(s.done)
	// Start the gap from the newest timestamp already stored (a restart
	// must not count entries stamped before it as uncovered).
	var stored uint64
	if err := s.st.ReadTimestamps(ctx, func(n uint64, _ []byte) error { stored = max(stored, n); return nil }); err != nil {
		s.l.log.Warn("reading the stored timestamps", "error", err)
	}
	s.mu.Lock()
	s.status.Size = max(s.status.Size, stored)
	s.mu.Unlock()
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		}
		if wait := s.interval - time.Since(last); s.interval > 0 && wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
		s.mu.Lock()
		note, done := append([]byte(nil), s.newest...), s.status.Size
		s.mu.Unlock()
		c, err := checkpoint.ParseUnverified(note)
		if err != nil || c.Size <= done {
			continue
		}
		last = time.Now()
		s.stamp(ctx, c)
	}
}

// stamp obtains and stores the token for c; a failure is counted, logged
// and left for the next checkpoint to make good.
func (s *stamper) stamp(ctx context.Context, c checkpoint.Checkpoint) {
	rctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	asked := time.Now()
	tsr, err := s.ts.Timestamp(rctx, c.Text())
	if err == nil {
		err = s.st.PutTimestamp(ctx, c.Size, tsr)
		if errors.Is(err, store.ErrTimestampExists) {
			err = nil // another writer of a shared store stamped it
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		if ctx.Err() != nil {
			return // closing
		}
		s.status.Failures++
		s.status.LastError = err.Error()
		s.l.log.Warn("no timestamp for a checkpoint: entries after the last timestamped one have none yet",
			"size", c.Size, "timestamped", s.status.Size, "error", err)
		return
	}
	s.status.Stamped++
	s.status.Size, s.status.Time, s.status.LastError = c.Size, asked, ""
}

func (s *stamper) stop() {
	s.cancel()
	<-s.done
}

// TimestampStatus reports how far the log's RFC 3161 timestamps reach:
// the gap between the newest committed checkpoint and the newest one a
// TSA stamped, and the failures, for alerts and metrics.
func (l *Log) TimestampStatus() TimestampStatus {
	if l.stamp == nil {
		return TimestampStatus{}
	}
	l.stamp.mu.Lock()
	defer l.stamp.mu.Unlock()
	return l.stamp.status
}

// Timestamps calls fn with each timestamp response the store holds, in
// ascending tree size: DER TimeStampResp bytes, untrusted until checked
// (package verify, or tstoken.Verify). A store that keeps none
// (it does not implement store.Timestamps) yields nothing.
func (l *Log) Timestamps(ctx context.Context, fn func(size uint64, tsr []byte) error) error {
	st, ok := l.st.(store.Timestamps)
	if !ok {
		return nil
	}
	return st.ReadTimestamps(ctx, fn)
}
