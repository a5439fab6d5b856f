// Package store defines what a sealog backend does: persist batches of
// encoded entries with their tree hashes and signed checkpoint, and read
// them back. The Log (package sealog) computes every hash and signature; a
// Store only keeps bytes, so backends stay thin and behave the same.
//
// Backends: store/file (the embedded default). Each backend passes the
// conformance suite in store/storetest.
package store

import (
	"context"
	"errors"

	"golang.org/x/mod/sumdb/tlog"
)

// Head is a log's committed state, as a Store finds it when opened.
type Head struct {
	Size       uint64    // number of committed entries
	LastLeaf   tlog.Hash // leaf hash of entry Size-1; zero when Size is 0
	LastTime   int64     // time of entry Size-1 (Unix ns); 0 when Size is 0
	Checkpoint []byte    // the signed checkpoint for Size; nil when Size is 0
}

// Batch is one group commit: consecutive entries starting at First, which
// is the store's size before the batch.
type Batch struct {
	First uint64
	// Lines holds the entries' canonical lines, each newline-terminated;
	// the last one carries the batch's checkpoint signature.
	Lines []byte
	// Ends[i] is the offset in Lines just past line i.
	Ends []int
	// Hashes are the tree's stored hashes for the batch's entries, in tlog
	// order from tlog.StoredHashIndex(0, First).
	Hashes []tlog.Hash
	// Checkpoint is the signed checkpoint of the tree after the batch.
	Checkpoint []byte
	// LastLeaf and LastTime describe the batch's last entry.
	LastLeaf tlog.Hash
	LastTime int64
}

// Store persists a log. Write and Sync are called by the log's writer
// goroutines (Write by one goroutine at a time, Sync by another, possibly
// at the same time); the read methods may be called concurrently with
// everything, and see only synced entries.
type Store interface {
	// Head returns the committed (synced) state.
	Head() Head

	// Write appends b after the batches written before it, without waiting
	// for it to be durable. Readers do not see it until a Sync covers it.
	Write(ctx context.Context, b *Batch) error

	// Sync makes every batch written before the call durable and visible,
	// and returns the committed size. When it returns nil, those batches
	// survive a crash. An error from Write or Sync means the batches not
	// yet synced may or may not be durable; the store then refuses every
	// later Write and Sync (ErrPoisoned) until it is reopened.
	Sync(ctx context.Context) (uint64, error)

	// ReadHashes implements tlog.HashReader over committed hashes.
	ReadHashes(indexes []int64) ([]tlog.Hash, error)

	// ReadLine returns the stored line of entry seq, without its newline,
	// appended to buf. ErrNotFound when seq is not committed.
	ReadLine(seq uint64, buf []byte) ([]byte, error)

	// ReadLines calls fn with each committed line from seq from to to-1,
	// in order, without newlines. The slice is valid only during the call.
	ReadLines(ctx context.Context, from, to uint64, fn func(seq uint64, line []byte) error) error

	// Erase replaces committed entry seq's stored line with line (newline
	// included), its erased form: the same header and leaf hash, without
	// the salt and the event. When it returns nil the change is durable.
	Erase(ctx context.Context, seq uint64, line []byte) error

	// Close makes the written batches durable, flushes what the store
	// keeps besides, and releases the store. The caller stops writing
	// first.
	Close() error
}

// Errors a Store returns for callers to branch on.
var (
	ErrNotFound = errors.New("entry not found")
	ErrPoisoned = errors.New("the log refuses writes after an I/O failure; reopen it")
	ErrClosed   = errors.New("store closed")
)
