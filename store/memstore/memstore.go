// Package memstore is an in-memory sealog store: a shareable backend for
// tests and examples, and the reference for what a store.Store does.
//
// A DB is one log. Every Store opened on it is a separate handle, as a
// process connected to a database would hold: several Logs may each open
// their own handle on one DB and append concurrently, and Append's
// conditional commit keeps them from forking the log. Closing a handle
// affects no other. Nothing survives the process.
//
//	db := memstore.NewDB(meta)
//	a, b := db.Open(), db.Open() // two writers on one log
//	head, err := a.Append(ctx, batch)
//	_, err = b.Append(ctx, staleBatch) // a *store.ConflictError
//
// Layout: the DB keeps the committed lines (without newlines, one copied
// slice each; an erasure replaces the slice), the tree's stored hashes in
// tlog order (entry seq's start at tlog.StoredHashIndex(0, seq), so the
// first of them is its leaf hash), the sorted sizes at which batches end,
// and the head. One mutex guards them all, so an Append, erasures
// included, is one critical section.
//
// For engine tests, DB.FailAppend injects faults: an Append that fails
// before committing, one that commits and still fails (an outcome the
// caller must find out), and a failure that poisons the handle until it
// is reopened.
package memstore

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/store"
)

// DB is one in-memory log, shared by every Store opened on it. It is safe
// for concurrent use.
type DB struct {
	meta store.Metadata // fixed at NewDB

	mu     sync.RWMutex
	lines  [][]byte                 // guarded by mu: line seq, without its newline; never modified in place
	hashes []tlog.Hash              // guarded by mu: stored hashes, len = tlog.StoredHashCount(head.Size)
	ends   []uint64                 // guarded by mu: sizes at which committed batches end, ascending
	head   store.Head               // guarded by mu
	fault  func(*store.Batch) error // guarded by mu: see FailAppend
	tsrs   map[uint64][]byte        // guarded by mu: timestamp responses by tree size
}

// NewDB returns an empty log with identity meta.
func NewDB(meta store.Metadata) *DB {
	return &DB{meta: meta}
}

// Open returns a new handle on the log. Handles are independent: each has
// its own closed and poisoned state, and each sees every append made
// through any of them as soon as it is committed.
func (db *DB) Open() *Store {
	return &Store{db: db}
}

// New returns a handle on a new, empty log: NewDB(meta).Open().
func New(meta store.Metadata) *Store {
	return NewDB(meta).Open()
}

// Store is one handle on a DB. It implements store.Store; all its methods
// are safe for concurrent use.
type Store struct {
	db       *DB
	closed   atomic.Bool
	poisoned atomic.Bool // set by an injected fault that wraps store.ErrPoisoned
}

var _ store.Store = (*Store)(nil)

// DB returns the log the handle is open on, for opening another handle.
func (s *Store) DB() *DB { return s.db }

// check returns the error a method returns before doing anything: the
// handle is closed or ctx is done.
func (s *Store) check(ctx context.Context) error {
	if s.closed.Load() {
		return fmt.Errorf("memstore: %w", store.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: %w", err)
	}
	return nil
}

// Metadata returns the identity the DB was created with.
func (s *Store) Metadata(ctx context.Context) (store.Metadata, error) {
	if err := s.check(ctx); err != nil {
		return store.Metadata{}, err
	}
	return s.db.meta, nil
}

// Head returns the committed state.
func (s *Store) Head(ctx context.Context) (store.Head, error) {
	if err := s.check(ctx); err != nil {
		return store.Head{}, err
	}
	s.db.mu.RLock()
	defer s.db.mu.RUnlock()
	return s.db.headLocked(), nil
}

// headLocked returns a copy of the head, which the caller may keep.
func (db *DB) headLocked() store.Head {
	h := db.head
	h.Checkpoint = bytes.Clone(h.Checkpoint)
	return h
}

// Close closes the handle; other handles on the DB are unaffected. Every
// later call, Close included, returns an error wrapping store.ErrClosed.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return fmt.Errorf("memstore: %w", store.ErrClosed)
	}
	return nil
}
