// Package commit is the engine between a Log and its Store: one sequencer
// goroutine that orders appends and gathers them into batches, and one
// committer goroutine that hands each batch to the store's conditional
// append. It signs one checkpoint per batch, re-sequences a batch that
// lost a race with another writer (*store.ConflictError), settles the
// outcome of a commit that failed halfway, refuses work past a bound
// (ErrOverloaded) and drains on Shutdown.
//
// Callers prepare their events (salt, encoding, body hash) on their own
// goroutine; nothing in a prepared event depends on its position, so a
// batch can be rebuilt on another head without touching its events.
package commit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/store"
)

// Config configures Start. Store, Origin and Signer are required.
type Config struct {
	Store  store.Store
	Origin string      // the log's origin, the checkpoints' first line
	Signer note.Signer // signs each batch's checkpoint
	// Clock stamps entries; nil means time.Now. Time never decreases in a
	// log, whatever it returns; a time outside 1970–2262 fails the append.
	Clock func() time.Time
	// MaxBatch caps the entries of one batch; 0 means 4096. A single
	// request larger than this is committed as one batch all the same.
	MaxBatch int
	// MaxPending caps the requests submitted and not yet answered; past it
	// Submit fails at once with ErrOverloaded. 0 means 16384.
	MaxPending int
	// CommitTimeout bounds each call to Store.Append; 0 means one minute.
	CommitTimeout time.Duration
	// MaxRetries caps how often a batch is re-sequenced after conflicts
	// with other writers before its callers get the error; 0 means 16.
	MaxRetries int
	// Logger receives conflicts and failures; nil is silent.
	Logger *slog.Logger
	// Committed, if set, is called with the tree size and signed
	// checkpoint of each batch once it is durable, before its callers
	// are answered. It must not block (the log's timestamper only
	// notes the newest) and must not keep the checkpoint's bytes past
	// the call without copying them.
	Committed func(size uint64, checkpoint []byte)
	// Hashes, if set, is called with the tree's stored hashes of each
	// batch once it is durable, before its callers are answered: hs[0]
	// is stored-hash index first (tlog.StoredHashIndex(0, batch's first
	// seq)). It must not block, and must copy what it keeps.
	Hashes func(first int64, hs []tlog.Hash)
}

// Event is one event prepared for the log: encoded, salted and committed
// to by its body hash.
type Event struct {
	Salt  [format.SaltSize]byte
	Event []byte
	Body  tlog.Hash
}

// Errors callers branch on.
var (
	// ErrOverloaded: too many appends are pending; retry later.
	ErrOverloaded = errors.New("too many appends pending; retry later")
	// ErrClosed: the engine is shut down (or shutting down).
	ErrClosed = errors.New("log closed")
	// ErrKeyRotated: the log is signed by a key this engine was not given
	// (another writer rotated it); reopen with the new key.
	ErrKeyRotated = errors.New("the log's signing key was rotated by another writer; reopen it with the new key")
)

// Committer is a running engine. Its methods are safe for concurrent use.
type Committer struct {
	cfg Config
	log *slog.Logger

	closeMu sync.RWMutex // held (read) while submitting; Shutdown takes it to stop submissions
	closed  bool
	reqs    chan *request
	done    chan struct{} // closed when the sequencer and committer have stopped

	failed atomic.Pointer[error] // set on ErrPoisoned: the engine refuses appends until restarted; read twice per append, so no lock

	// active counts requests submitted and not yet answered, so that the
	// sequencer knows whether more are on their way (see gather), and so
	// that Submit can refuse work past MaxPending.
	active atomic.Int64
	peak   atomic.Int64 // the most requests active at once since the last batch closed

	stats Stats // updated by the committer goroutine (atomics)

	signMu  sync.Mutex
	signers []note.Signer // Config.Signer and the keys rotated to since, oldest first
}

// knownSigners returns the signers this engine may sign with.
func (c *Committer) knownSigners() []note.Signer {
	c.signMu.Lock()
	defer c.signMu.Unlock()
	return append([]note.Signer(nil), c.signers...)
}

// SubmitRotation hands the engine a rotation record (one prepared event,
// format.AppendRotationEvent) that hands the log over to next: the record
// is committed alone in its batch, signed by the key in effect, and every
// later batch is signed by next.
func (c *Committer) SubmitRotation(ctx context.Context, ev Event, next note.Signer) (*Future, error) {
	c.signMu.Lock()
	c.signers = append(c.signers, next)
	c.signMu.Unlock()
	return c.submit(ctx, &request{evs: []Event{ev}, rotate: next, done: make(chan struct{}), leaves: make([]tlog.Hash, 0, 1)})
}

// Stats counts what the engine did, for metrics and benchmarks.
type Stats struct {
	Batches   atomic.Int64 // batches committed
	Entries   atomic.Int64 // entries committed
	Conflicts atomic.Int64 // appends that lost to another writer and were re-sequenced
	Failures  atomic.Int64 // batches whose callers got an error
	// StoreNanos is the time spent in Store.Append; IdleNanos the time the
	// committer waited for the next batch. Their sum is the commit loop's
	// time: a profile of one cycle.
	StoreNanos atomic.Int64
	IdleNanos  atomic.Int64
}

// request is one Submit waiting to be committed.
type request struct {
	evs    []Event
	erase  *store.Erasure // an erasure committed with evs (alone in its batch)
	rotate note.Signer    // a rotation record's new key (alone in its batch): signs every later batch
	done   chan struct{}

	// Set by the builder and committer before done is closed.
	first  uint64 // seq of evs[0]
	time   int64
	leaves []tlog.Hash
	leaf   [1]tlog.Hash // leaves' storage for a request of one event: one allocation fewer per Append
	size   uint64       // tree size of the batch's checkpoint
	note   string       // the batch's signed checkpoint, one string shared by its requests
	err    error

	fut Future // what Submit returns: in the request, so that it costs no allocation of its own
}

// Start loads the store's head and tree edge and starts the engine.
func Start(ctx context.Context, cfg Config) (*Committer, error) {
	if cfg.Store == nil || cfg.Signer == nil || cfg.Origin == "" {
		return nil, errors.New("commit: Config needs Store, Origin and Signer")
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 4096
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = 16384
	}
	if cfg.CommitTimeout <= 0 {
		cfg.CommitTimeout = time.Minute
	}
	if cfg.MaxRetries <= 0 {
		cfg.MaxRetries = 16
	}
	lg := cfg.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	c := &Committer{cfg: cfg, log: lg, reqs: make(chan *request, cfg.MaxPending), done: make(chan struct{})}
	c.signers = []note.Signer{cfg.Signer}
	st, err := loadState(ctx, cfg.Store, c.knownSigners())
	if err != nil {
		return nil, err
	}
	s := newSequencer(c, &st)
	s.start()
	return c, nil
}

// Stats returns the engine's counters.
func (c *Committer) Stats() *Stats { return &c.stats }

// Result is what a committed request gets back.
type Result struct {
	First      uint64      // seq of the first event
	Time       int64       // the events' time (Unix ns)
	Leaves     []tlog.Hash // one per event
	Size       uint64      // the tree size of Checkpoint
	Checkpoint string      // the batch's signed checkpoint (shared by its requests)
}

// Future is a submitted request on its way to the store.
type Future struct{ r *request }

// Done is closed when the request is committed or has failed.
func (f *Future) Done() <-chan struct{} { return f.r.done }

// Result returns the request's outcome once Done is closed.
func (f *Future) Result() (Result, error) {
	r := f.r
	<-r.done
	if r.err != nil {
		return Result{}, r.err
	}
	return Result{First: r.first, Time: r.time, Leaves: r.leaves, Size: r.size, Checkpoint: r.note}, nil
}

// Submit hands prepared events (and, for an erasure, the erasure they
// record) to the engine and returns at once. Requests submitted one after
// another by one goroutine are committed in that order; each is atomic.
// It fails with ErrOverloaded when MaxPending requests are pending, and
// with ErrClosed after Shutdown.
func (c *Committer) Submit(ctx context.Context, evs []Event, erase *store.Erasure) (*Future, error) {
	if len(evs) == 0 {
		return nil, errors.New("commit: no events")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := c.failure(); err != nil {
		return nil, err
	}
	r := &request{evs: evs, erase: erase, done: make(chan struct{})}
	if len(evs) == 1 {
		r.leaves = r.leaf[:0]
	} else {
		r.leaves = make([]tlog.Hash, 0, len(evs))
	}
	return c.submit(ctx, r)
}

func (c *Committer) submit(ctx context.Context, r *request) (*Future, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := c.failure(); err != nil {
		return nil, err
	}
	c.closeMu.RLock()
	defer c.closeMu.RUnlock()
	if c.closed {
		return nil, ErrClosed
	}
	n := c.active.Add(1)
	if n > int64(c.cfg.MaxPending) {
		c.active.Add(-1)
		return nil, ErrOverloaded
	}
	if n > c.peak.Load() {
		c.peak.Store(n) // racy max: good enough for a batching hint
	}
	select {
	case c.reqs <- r:
	default:
		c.active.Add(-1)
		return nil, ErrOverloaded
	}
	r.fut.r = r
	return &r.fut, nil
}

// Shutdown stops accepting requests, waits for those in flight to be
// committed (or to fail), and returns when they are, or when ctx is done
// (then with ctx's error; the drain goes on in the background, and Done
// tells when it ends). The store is not closed: its owner closes it
// after Done.
func (c *Committer) Shutdown(ctx context.Context) error {
	c.closeMu.Lock()
	if !c.closed {
		c.closed = true
		close(c.reqs)
	}
	c.closeMu.Unlock()
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("shutdown: %w (appends still in flight)", ctx.Err())
	}
}

// Done is closed once the engine has stopped after Shutdown.
func (c *Committer) Done() <-chan struct{} { return c.done }

// Pending returns the number of requests submitted and not yet answered.
func (c *Committer) Pending() int { return int(c.active.Load()) }

func (c *Committer) fail(err error) {
	c.failed.CompareAndSwap(nil, &err)
}

// failure returns the error that stopped the engine, if any.
func (c *Committer) failure() error {
	if p := c.failed.Load(); p != nil {
		return *p
	}
	return nil
}

// answer completes a request.
func (c *Committer) answer(r *request, err error) {
	r.err = err
	c.active.Add(-1)
	close(r.done)
}
