package sealog

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/sealog/sealog/internal/commit"
	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/store/file"
)

// Log is an open audit log over a store. Its methods are safe for
// concurrent use.
type Log struct {
	st     store.Store
	name   string // for messages: the directory, or the store's description
	origin string
	key    *Key // nil when read-only; guarded by keyMu after a rotation
	opts   Options
	log    *slog.Logger
	rand   io.Reader
	eng    *commit.Committer // nil when read-only

	keyMu  sync.Mutex // guards epochs and key
	epochs []KeyEpoch // the chain of keys, oldest first (never empty)
	rotMu  sync.Mutex // one Rotate at a time

	stamp  *stamper   // nil without Options.Timestamper
	hashes *hashCache // the tree hashes proofs read most (hashcache.go)

	closeOnce sync.Once
	closeErr  error

	ckMu     sync.Mutex // guards ckNote and ckParsed
	ckNote   []byte     // the last head checkpoint whose signature was verified
	ckParsed Checkpoint
}

// Open opens the log in directory dir — the embedded file store, no
// server — creating it (and dir) if dir holds no log and opts.Key is set,
// unless opts.File.NoCreate. Opened for writing, it first recovers from
// any crash: a torn or unacknowledged tail is cut and kept aside in
// dir/torn, and what happened is reported to Options.Logger. A second
// process that opens the same log for writing gets ErrLocked.
//
// Open is New over file.Open; opts.File configures the file store.
func Open(dir string, opts Options) (*Log, error) {
	if !opts.ReadOnly && opts.Key == nil {
		return nil, errors.New("sealog: Open needs Options.Key to write (or Options.ReadOnly)")
	}
	fo := opts.File
	fo.ReadOnly = fo.ReadOnly || opts.ReadOnly
	if fo.Logger == nil {
		fo.Logger = opts.Logger
	}
	if fo.Now == nil {
		fo.Now = opts.Clock
	}
	if opts.Key != nil {
		fo.Origin, fo.Key = opts.Key.Origin(), opts.Key.VerifierKey()
	}
	st, err := file.Open(dir, fo)
	if err != nil {
		return nil, fmt.Errorf("sealog: %w", err)
	}
	l, err := newLog(context.Background(), st, dir, opts)
	if err != nil {
		st.Close()
		return nil, err
	}
	return l, nil
}

// New opens the log held by st, which it owns from then on (Close closes
// it). With opts.Key it appends: the key must be the one the log was
// created with, and the engine starts from the store's head. Several Logs
// may append to one shared store (a database) at once: each batches its
// own callers, and the store orders the batches.
func New(ctx context.Context, st store.Store, opts Options) (*Log, error) {
	return newLog(ctx, st, "", opts)
}

func newLog(ctx context.Context, st store.Store, name string, opts Options) (*Log, error) {
	if !opts.ReadOnly && opts.Key == nil {
		return nil, errors.New("sealog: appending needs Options.Key (or Options.ReadOnly)")
	}
	if opts.MaxEventSize <= 0 {
		opts.MaxEventSize = defaultMaxEventSize
	}
	if opts.MaxEventSize > maxEventSizeLimit {
		return nil, fmt.Errorf("sealog: MaxEventSize %d is above the limit of %d", opts.MaxEventSize, maxEventSizeLimit)
	}
	meta, err := st.Metadata(ctx)
	if err != nil {
		return nil, fmt.Errorf("sealog: %w", err)
	}
	if name == "" {
		name = meta.Origin
	}
	v, err := note.NewVerifier(meta.Key)
	if err != nil {
		return nil, fmt.Errorf("sealog: %s: the log's verifier key: %w", name, err)
	}
	if v.Name() != meta.Origin {
		return nil, fmt.Errorf("sealog: %s: %w: its key is named %q but its origin is %q", name, ErrCorrupt, v.Name(), meta.Origin)
	}
	lg := opts.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	l := &Log{
		st: st, name: name, origin: meta.Origin,
		epochs: []KeyEpoch{{VerifierKey: meta.Key, From: 1, verifier: v}},
		opts:   opts, log: lg, rand: opts.Rand,
		hashes: newHashCache(!opts.ReadOnly),
	}
	if h, err := st.Head(ctx); err != nil {
		return nil, fmt.Errorf("sealog: %w", err)
	} else if err := l.loadChain(ctx, h); err != nil {
		if !opts.ReadOnly {
			return nil, err
		}
		// A reader of a damaged log still opens it (to show what is
		// intact, or for verify to name the damage): with the keys known
		// so far, a checkpoint signed by a key it could not follow fails
		// to verify, so no read is silently wrong.
		lg.Warn("reading the log's chain of keys failed; later keys are unknown", "log", l.name, "error", err)
	}
	if l.rand == nil {
		l.rand = rand.Reader
	}
	if opts.ReadOnly {
		if err := l.check(ctx); err != nil {
			return nil, err
		}
		return l, nil
	}
	if cur := l.VerifierKey(); opts.Key.VerifierKey() != cur {
		for _, e := range l.epochs[:len(l.epochs)-1] {
			if e.VerifierKey == opts.Key.VerifierKey() {
				return nil, fmt.Errorf("sealog: %w", &store.KeyError{Log: name, Given: opts.Key.VerifierKey(), Current: cur, Rotated: true, RotatedAt: l.epochs[len(l.epochs)-1].Rotation})
			}
		}
		return nil, fmt.Errorf("sealog: %w", &store.KeyError{Log: name, Given: opts.Key.VerifierKey(), Current: cur})
	}
	l.key = opts.Key
	if kr, ok := st.(keyRecorder); ok && len(l.epochs) > 1 {
		// The store's list of keys may lack the current one (a copy
		// without it): the chain just proved it, so record it.
		if err := kr.RecordKey(ctx, opts.Key.VerifierKey()); err != nil {
			return nil, fmt.Errorf("sealog: %s: recording the log's key: %w", name, err)
		}
	}
	var committed func(uint64, []byte)
	if opts.Timestamper != nil {
		if l.stamp, err = newStamper(l, opts.Timestamper, opts); err != nil {
			return nil, err
		}
		committed = l.stamp.committed
	}
	l.eng, err = commit.Start(ctx, commit.Config{
		Store: st, Origin: meta.Origin, Signer: opts.Key.Signer(), Clock: opts.Clock,
		MaxBatch: opts.MaxBatch, MaxPending: opts.MaxPending, CommitTimeout: opts.CommitTimeout,
		MaxRetries: opts.MaxRetries, Logger: lg, Committed: committed,
		Hashes: l.hashes.put,
	})
	if err != nil {
		if l.stamp != nil {
			l.stamp.stop()
		}
		return nil, fmt.Errorf("sealog: %s: %w", name, err)
	}
	if err := l.check(ctx); err != nil {
		return nil, err
	}
	return l, nil
}

// check runs Options.Check; if it fails the log is closed.
func (l *Log) check(ctx context.Context) error {
	if l.opts.Check == nil {
		return nil
	}
	if err := l.opts.Check(ctx, l); err != nil {
		l.Close()
		return fmt.Errorf("sealog: %s: start-up check: %w", l.name, err)
	}
	return nil
}

// Origin returns the log's origin, the first line of its checkpoints.
func (l *Log) Origin() string { return l.origin }

// Store returns the store the log is over.
func (l *Log) Store() store.Store { return l.st }

// Shutdown stops accepting appends, waits until those in flight are
// durable (or have failed), then closes the store. If ctx ends first it
// returns ctx's error; the drain goes on, and the store is closed when it
// ends. Later calls return the first call's result.
func (l *Log) Shutdown(ctx context.Context) error {
	var err error
	l.closeOnce.Do(func() {
		if l.eng == nil {
			l.closeErr = l.closeStore()
			return
		}
		if err = l.eng.Shutdown(ctx); err != nil {
			go func() { <-l.eng.Done(); l.closeStore() }()
			l.closeErr = fmt.Errorf("sealog: %w", err)
			return
		}
		l.closeErr = l.closeStore()
	})
	return l.closeErr
}

// Close is Shutdown without a deadline: it waits for pending appends to
// commit, then closes the store (for the file store: the checkpoint and
// derived files are written durably and the writer lock is released).
// Appends after Close fail with ErrClosed.
func (l *Log) Close() error { return l.Shutdown(context.Background()) }

func (l *Log) closeStore() error {
	if l.stamp != nil {
		l.stamp.stop()
	}
	if err := l.st.Close(); err != nil {
		return fmt.Errorf("sealog: closing %s: %w", l.name, err)
	}
	return nil
}

// Stats counts what a Log's engine did since it was opened.
type Stats struct {
	Batches   int64 // batches committed (one store append, one signature each)
	Entries   int64 // entries committed
	Conflicts int64 // appends that lost a race with another writer and were re-sequenced
	Failures  int64 // batches whose callers got an error
	Pending   int   // appends submitted and not yet answered
	// StoreTime is the time spent in the store's appends (writes and
	// fsyncs); IdleTime the time the committer waited for a batch.
	StoreTime, IdleTime time.Duration
}

// Stats returns the engine's counters; zero for a read-only log.
func (l *Log) Stats() Stats {
	if l.eng == nil {
		return Stats{}
	}
	s := l.eng.Stats()
	return Stats{
		Batches: s.Batches.Load(), Entries: s.Entries.Load(), Conflicts: s.Conflicts.Load(), Failures: s.Failures.Load(),
		Pending: l.eng.Pending(), StoreTime: time.Duration(s.StoreNanos.Load()), IdleTime: time.Duration(s.IdleNanos.Load()),
	}
}
