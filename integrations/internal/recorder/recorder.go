// Package recorder is what the net/http and gRPC integrations share:
// appending an event durably (bounded, immune to the caller's
// cancellation, waiting out an overloaded log for a bounded time) or
// through a bounded queue drained in batches, and making every failure
// visible: counted, logged, and handed to a callback.
package recorder

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sealog/sealog"
)

// Config configures a Recorder.
type Config struct {
	Appender sealog.Appender
	// Name prefixes log messages ("sealhttp").
	Name string
	// Timeout bounds one append; 0 means 30 seconds.
	Timeout time.Duration
	// Block bounds the wait for an overloaded log or a full queue; 0
	// fails at once.
	Block time.Duration
	// QueueSize is the asynchronous queue's capacity; 0 means 4096.
	QueueSize int
	// OnError, if set, is called for every event not recorded.
	OnError func(err error, ev sealog.Event)
	// Logger receives one error line per event not recorded; nil means
	// slog.Default().
	Logger *slog.Logger
}

// ErrQueueFull is the reason an asynchronous event was not recorded
// when the queue stayed full for longer than Config.Block.
var ErrQueueFull = errors.New("audit queue full")

// ErrClosed is the reason an event was not recorded after Close.
var ErrClosed = errors.New("audit recorder closed")

// Stats are a Recorder's counters.
type Stats struct {
	Sealed int64 // events recorded
	Failed int64 // events not recorded, each reported
	Queued int   // events waiting in the asynchronous queue
}

// Recorder appends events. Its methods are safe for concurrent use.
type Recorder struct {
	cfg    Config
	sealed atomic.Int64
	failed atomic.Int64

	mu     sync.RWMutex // guards closed against sends on queue
	closed bool
	queue  chan sealog.Event
	done   chan struct{}
}

// New returns a Recorder and starts the goroutines that drain its
// queue; Close stops them. Queued events are appended in batches, not
// necessarily in the order queued.
func New(cfg Config) *Recorder {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 4096
	}
	r := &Recorder{cfg: cfg, queue: make(chan sealog.Event, cfg.QueueSize), done: make(chan struct{})}
	// Two drainers keep two batches in flight: the log signs and writes
	// one while the other is being made durable.
	var wg sync.WaitGroup
	for range drainers {
		wg.Go(r.drain)
	}
	go func() { wg.Wait(); close(r.done) }()
	return r
}

// Seal appends ev durably and returns its receipt. ctx's values are kept
// and its cancellation is not: an audit record outlives a cancelled
// request. A failure is counted and reported before it is returned.
func (r *Recorder) Seal(ctx context.Context, ev sealog.Event) (sealog.Receipt, error) {
	r.mu.RLock()
	closed := r.closed
	r.mu.RUnlock()
	if closed {
		r.Fail(ErrClosed, ev)
		return sealog.Receipt{}, ErrClosed
	}
	rc, err := r.append(context.WithoutCancel(ctx), ev)
	if err != nil {
		r.Fail(err, ev)
		return rc, err
	}
	r.sealed.Add(1)
	return rc, nil
}

func (r *Recorder) append(ctx context.Context, ev sealog.Event) (sealog.Receipt, error) {
	var deadline time.Time
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		actx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
		rc, err := r.cfg.Appender.Append(actx, ev)
		cancel()
		if err == nil || !errors.Is(err, sealog.ErrOverloaded) || r.cfg.Block <= 0 {
			return rc, err
		}
		if deadline.IsZero() {
			deadline = time.Now().Add(r.cfg.Block)
		}
		if time.Now().Add(wait).After(deadline) {
			return rc, err
		}
		time.Sleep(wait)
	}
}

// Enqueue queues ev to be appended in the background, waiting at most
// Config.Block for room; it reports ErrQueueFull (counted and reported)
// rather than block longer.
func (r *Recorder) Enqueue(ev sealog.Event) {
	if err := r.enqueue(ev); err != nil {
		r.Fail(err, ev)
	}
}

func (r *Recorder) enqueue(ev sealog.Event) error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		return ErrClosed
	}
	select {
	case r.queue <- ev:
		return nil
	default:
	}
	if r.cfg.Block <= 0 {
		return ErrQueueFull
	}
	t := time.NewTimer(r.cfg.Block)
	defer t.Stop()
	select {
	case r.queue <- ev:
		return nil
	case <-t.C:
		return ErrQueueFull
	}
}

const (
	maxBatch = 512
	drainers = 2
)

// drain appends queued events in batches until the queue is closed.
func (r *Recorder) drain() {
	evs := make([]sealog.Event, 0, maxBatch)
	for ev := range r.queue {
		evs = append(evs[:0], ev)
	more:
		for len(evs) < maxBatch {
			select {
			case ev, ok := <-r.queue:
				if !ok {
					break more
				}
				evs = append(evs, ev)
			default:
				break more
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), r.cfg.Timeout)
		_, err := r.cfg.Appender.AppendBatch(ctx, evs)
		cancel()
		if err == nil {
			r.sealed.Add(int64(len(evs)))
			continue
		}
		// A batch is atomic: one bad event fails it all. Retry one by one
		// so that only the bad ones fail.
		for _, ev := range evs {
			if _, err := r.append(context.Background(), ev); err != nil {
				r.Fail(err, ev)
			} else {
				r.sealed.Add(1)
			}
		}
	}
}

// Encode encodes a payload once, on the caller's goroutine, the way the
// log does (no HTML escaping), so that the queue's drainers do not.
func Encode(p map[string]any) json.RawMessage {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		// A map of strings, numbers and string slices always encodes.
		panic(err)
	}
	return bytes.TrimRight(b.Bytes(), "\n")
}

// Fail counts, logs and reports an event that was not recorded.
func (r *Recorder) Fail(err error, ev sealog.Event) {
	r.failed.Add(1)
	lg := r.cfg.Logger
	if lg == nil {
		lg = slog.Default()
	}
	lg.Error(r.cfg.Name+": audit record not recorded", "kind", ev.Kind, "actor", ev.Actor, "resource", ev.Resource, "err", err)
	if r.cfg.OnError != nil {
		r.cfg.OnError(err, ev)
	}
}

// Stats returns the counters.
func (r *Recorder) Stats() Stats {
	return Stats{Sealed: r.sealed.Load(), Failed: r.failed.Load(), Queued: len(r.queue)}
}

// Close stops accepting events and waits until the queued ones are
// appended or have failed; if ctx ends first it returns ctx's error and
// the drain goes on.
func (r *Recorder) Close(ctx context.Context) error {
	r.mu.Lock()
	if !r.closed {
		r.closed = true
		close(r.queue)
	}
	r.mu.Unlock()
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
