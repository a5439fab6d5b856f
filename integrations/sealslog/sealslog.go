// Package sealslog is a log/slog handler that seals records into a
// tamper-evident sealog log: each record at or above a level becomes one
// entry, its attributes and groups kept with their JSON types.
//
//	h := sealslog.New(auditLog, &sealslog.Options{Next: slog.NewJSONHandler(os.Stderr, nil)})
//	slog.SetDefault(slog.New(h))
//
// auditLog is any sealog.Appender: a *sealog.Log (a local log) or a
// *client.Client (a remote 'sealog serve').
//
// The entry's kind is the value of the attribute Options.KindKey, or the
// message; its actor and resource come from the attributes ActorKey and
// ResourceKey. Its payload holds the record's time (the log stamps the
// entry with its own), level, message, optional source and every other
// attribute, groups as nested objects (a top-level attribute named time,
// level, msg or source is stored as attr.time, attr.level and so on):
//
//	{"time":"2026-11-21T09:00:00Z","level":"INFO","msg":"user.login",
//	 "req":{"ip":"203.0.113.9","mfa":true}}
//
// slog discards the error Handle returns, so a record that cannot be
// sealed is never dropped silently: it is counted (Handler.Stats) and
// handed to Options.OnError (by default a line on standard error). By
// default Handle returns only once the entry is durable and signed, with
// the caller's context stripped of its cancellation (an audit record
// outlives a cancelled request); Options.Async queues records instead.
// Options.Block makes Handle wait, for a bounded time, when the log or
// the queue is full, rather than fail at once.
package sealslog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sealog/sealog"
)

// Options configure a Handler. The zero value seals records at Info and
// above, the message as kind, synchronously.
type Options struct {
	// Level is the least level sealed; nil means slog.LevelInfo.
	Level slog.Leveler
	// KindKey names the top-level attribute whose string value is the
	// entry's kind; when it is empty or the record lacks it, the message
	// is the kind (DefaultKind when the message is empty too). The
	// attribute is not repeated in the payload.
	KindKey string
	// DefaultKind is the kind of a record without one; "" means
	// "log.record".
	DefaultKind string
	// ActorKey and ResourceKey name the top-level attributes whose values
	// are the entry's actor and resource ("" means none is taken).
	ActorKey, ResourceKey string
	// AddSource records the record's source location in the payload
	// ("source": {"function", "file", "line"}).
	AddSource bool
	// Next, if set, also receives every record it is enabled for, sealed
	// or not: the handler tees, so logs still reach their usual
	// destination.
	Next slog.Handler

	// Async makes Handle queue the record and return at once; two
	// background goroutines append queued records in batches (so their
	// order in the log may differ a little from the order logged). Close
	// drains the queue. Without it Handle returns once the entry is
	// durable.
	Async bool
	// QueueSize is the Async queue's capacity; 0 means 4096.
	QueueSize int
	// Block bounds how long Handle waits when the log is overloaded
	// (sealog.ErrOverloaded) or the Async queue is full; past it the
	// record fails. 0 means it fails at once.
	Block time.Duration
	// Timeout bounds one append; 0 means 30 seconds.
	Timeout time.Duration
	// OnError is called for every record that was not sealed, with the
	// reason; it must be safe for concurrent use. nil writes one line
	// to standard error.
	OnError func(err error, r slog.Record)
}

// ErrQueueFull is the reason given for a record that found the Async
// queue full for longer than Options.Block.
var ErrQueueFull = errors.New("sealslog: queue full")

// ErrClosed is the reason given for a record handled after Close.
var ErrClosed = errors.New("sealslog: handler closed")

// Stats counts what a Handler (and every handler derived from it by
// WithAttrs and WithGroup) did.
type Stats struct {
	Sealed int64 // records recorded in the log
	Failed int64 // records not recorded, each reported to OnError
	Queued int   // records waiting in the Async queue
}

// Handler is a slog.Handler that seals records into a log. Its methods
// are safe for concurrent use.
type Handler struct {
	c      *core
	prefix []frame // WithGroup and WithAttrs calls, in order
	next   slog.Handler
}

// frame is one WithGroup (group set) or WithAttrs (attrs set) call.
type frame struct {
	group string
	attrs []slog.Attr
}

// core is what a Handler and the handlers derived from it share.
type core struct {
	a      sealog.Appender
	opts   Options
	sealed atomic.Int64
	failed atomic.Int64

	mu     sync.RWMutex // guards closed against sends on queue
	closed bool
	queue  chan item
	done   chan struct{}
}

// item is one queued record.
type item struct {
	ev  sealog.Event
	rec slog.Record
}

// New returns a handler that seals records into a. With Options.Async it
// starts a goroutine; Close stops it.
func New(a sealog.Appender, opts *Options) *Handler {
	c := &core{a: a}
	if opts != nil {
		c.opts = *opts
	}
	if c.opts.Level == nil {
		c.opts.Level = slog.LevelInfo
	}
	if c.opts.DefaultKind == "" {
		c.opts.DefaultKind = "log.record"
	}
	if c.opts.Timeout <= 0 {
		c.opts.Timeout = 30 * time.Second
	}
	if c.opts.QueueSize <= 0 {
		c.opts.QueueSize = 4096
	}
	if c.opts.Async {
		c.queue = make(chan item, c.opts.QueueSize)
		c.done = make(chan struct{})
		// Two drainers keep two batches in flight: the log signs and
		// writes one while the other is being made durable.
		var wg sync.WaitGroup
		wg.Go(c.drain)
		wg.Go(c.drain)
		go func() { wg.Wait(); close(c.done) }()
	}
	return &Handler{c: c, next: c.opts.Next}
}

// Enabled reports whether a record at level is sealed or reaches Next.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= h.c.opts.Level.Level() || (h.next != nil && h.next.Enabled(ctx, level))
}

// Handle passes r to Next, if it is enabled for r's level, and seals r if
// it is at or above Options.Level. It returns Next's error or the
// sealing error, the latter also counted and reported to OnError.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	var nextErr error
	if h.next != nil && h.next.Enabled(ctx, r.Level) {
		nextErr = h.next.Handle(ctx, r.Clone())
	}
	if r.Level < h.c.opts.Level.Level() {
		return nextErr
	}
	ev := h.event(r)
	var err error
	if h.c.opts.Async {
		err = h.c.enqueue(item{ev: ev, rec: r.Clone()})
	} else if h.c.isClosed() {
		err = ErrClosed
	} else {
		err = h.c.append(context.WithoutCancel(ctx), ev)
	}
	if err != nil {
		h.c.fail(err, r)
		return errors.Join(nextErr, err)
	}
	return nextErr
}

// WithAttrs returns a handler whose records carry attrs, in the groups
// opened so far.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	h2 := h.with(frame{attrs: attrs})
	if h.next != nil {
		h2.next = h.next.WithAttrs(attrs)
	}
	return h2
}

// WithGroup returns a handler whose later attributes are in group name.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := h.with(frame{group: name})
	if h.next != nil {
		h2.next = h.next.WithGroup(name)
	}
	return h2
}

func (h *Handler) with(f frame) *Handler {
	p := make([]frame, len(h.prefix), len(h.prefix)+1)
	copy(p, h.prefix)
	return &Handler{c: h.c, prefix: append(p, f), next: h.next}
}

// Stats returns the handler's counters.
func (h *Handler) Stats() Stats {
	s := Stats{Sealed: h.c.sealed.Load(), Failed: h.c.failed.Load()}
	if h.c.queue != nil {
		s.Queued = len(h.c.queue)
	}
	return s
}

// Close stops accepting records and, with Options.Async, waits until the
// queued ones are appended (or have failed). If ctx ends first it
// returns ctx's error and the drain goes on. It does not close the log.
func (h *Handler) Close(ctx context.Context) error {
	c := h.c
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		if c.queue != nil {
			close(c.queue)
		}
	}
	c.mu.Unlock()
	if c.done == nil {
		return nil
	}
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *core) isClosed() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.closed
}

// append appends one event, retrying while the log is overloaded for at
// most Options.Block.
func (c *core) append(ctx context.Context, ev sealog.Event) error {
	var deadline time.Time
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		actx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
		_, err := c.a.Append(actx, ev)
		cancel()
		if err == nil {
			c.sealed.Add(1)
			return nil
		}
		if !errors.Is(err, sealog.ErrOverloaded) || c.opts.Block <= 0 {
			return err
		}
		if deadline.IsZero() {
			deadline = time.Now().Add(c.opts.Block)
		}
		if time.Now().Add(wait).After(deadline) {
			return err
		}
		time.Sleep(wait)
	}
}

// enqueue queues it, waiting at most Options.Block for room.
func (c *core) enqueue(it item) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return ErrClosed
	}
	select {
	case c.queue <- it:
		return nil
	default:
	}
	if c.opts.Block <= 0 {
		return ErrQueueFull
	}
	t := time.NewTimer(c.opts.Block)
	defer t.Stop()
	select {
	case c.queue <- it:
		return nil
	case <-t.C:
		return ErrQueueFull
	}
}

// maxBatch caps the records appended in one AppendBatch.
const maxBatch = 512

// drain appends queued records in batches until the queue is closed.
// Batches are not necessarily committed in the order queued.
func (c *core) drain() {
	batch := make([]item, 0, maxBatch)
	evs := make([]sealog.Event, 0, maxBatch)
	for it := range c.queue {
		batch = append(batch[:0], it)
	more:
		for len(batch) < maxBatch {
			select {
			case it, ok := <-c.queue:
				if !ok {
					break more
				}
				batch = append(batch, it)
			default:
				break more
			}
		}
		evs = evs[:0]
		for _, it := range batch {
			evs = append(evs, it.ev)
		}
		ctx, cancel := context.WithTimeout(context.Background(), c.opts.Timeout)
		_, err := c.a.AppendBatch(ctx, evs)
		cancel()
		if err == nil {
			c.sealed.Add(int64(len(batch)))
			continue
		}
		// A batch is atomic: one bad record fails it all. Retry one by
		// one so that only the bad ones fail.
		for _, it := range batch {
			if err := c.append(context.Background(), it.ev); err != nil {
				c.fail(err, it.rec)
			}
		}
	}
}

// fail counts and reports a record that was not sealed.
func (c *core) fail(err error, r slog.Record) {
	c.failed.Add(1)
	if c.opts.OnError != nil {
		c.opts.OnError(err, r)
		return
	}
	fmt.Fprintf(os.Stderr, "sealslog: audit record %q (%s) was not recorded: %v\n", r.Message, r.Time.Format(time.RFC3339Nano), err)
}

// event builds the entry for r.
func (h *Handler) event(r slog.Record) sealog.Event {
	o := &h.c.opts
	ev := sealog.Event{}
	ar := &arena{b: make([]byte, 0, 256)}
	root := &object{kvs: make([]kv, 0, 8)}
	if !r.Time.IsZero() {
		n := len(ar.b)
		ar.b = append(ar.b, '"')
		ar.b = r.Time.AppendFormat(ar.b, time.RFC3339Nano)
		ar.b = append(ar.b, '"')
		root.setLeaf("time", ar.b[n:len(ar.b):len(ar.b)])
	}
	root.setLeaf("level", ar.str(r.Level.String()))
	root.setLeaf("msg", ar.str(r.Message))
	if o.AddSource && r.PC != 0 {
		fs := runtime.CallersFrames([]uintptr{r.PC})
		f, _ := fs.Next()
		src := &object{}
		src.setLeaf("function", ar.str(f.Function))
		src.setLeaf("file", ar.str(f.File))
		src.setLeaf("line", strconv.AppendInt(nil, int64(f.Line), 10))
		root.set(kv{k: "source", obj: src})
	}
	attrs := &object{kvs: make([]kv, 0, 8)}
	cur, depth := attrs, 0
	take := func(a slog.Attr) bool {
		// Kind, actor and resource come from top-level attributes only.
		if depth > 0 || a.Key == "" {
			return false
		}
		var dst *string
		switch a.Key {
		case o.KindKey:
			dst = &ev.Kind
		case o.ActorKey:
			dst = &ev.Actor
		case o.ResourceKey:
			dst = &ev.Resource
		default:
			return false
		}
		v := a.Value.Resolve()
		if v.Kind() == slog.KindGroup {
			return false
		}
		*dst = v.String()
		return true
	}
	for _, f := range h.prefix {
		if f.group != "" {
			cur, depth = cur.group(f.group), depth+1
			continue
		}
		for _, a := range f.attrs {
			if !take(a) {
				cur.addAttr(ar, a)
			}
		}
	}
	r.Attrs(func(a slog.Attr) bool {
		if !take(a) {
			cur.addAttr(ar, a)
		}
		return true
	})
	attrs.prune()
	for _, e := range attrs.kvs {
		if reserved(e.k) {
			e.k = "attr." + e.k // the record's own time, level, msg, source stay
		}
		root.set(e)
	}
	if ev.Kind == "" {
		ev.Kind = r.Message
	}
	if ev.Kind == "" {
		ev.Kind = o.DefaultKind
	}
	ev.Payload = json.RawMessage(root.json(make([]byte, 0, len(ar.b)+256)))
	return ev
}
