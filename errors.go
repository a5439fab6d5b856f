package sealog

import (
	"errors"

	"github.com/sealog/sealog/internal/commit"
	"github.com/sealog/sealog/keys"
	"github.com/sealog/sealog/store"
)

// Errors callers can branch on (with errors.Is). The store's errors are
// defined once, in package store, and re-exported here.
var (
	// ErrClosed is returned by calls on a closed Log.
	ErrClosed = store.ErrClosed
	// ErrReadOnly is returned by Append on a log opened read-only.
	ErrReadOnly = store.ErrReadOnly
	// ErrNotFound is returned for an entry that is not in the log.
	ErrNotFound = store.ErrNotFound
	// ErrTruncated is returned by Open when the log holds fewer entries
	// than a checkpoint it signed.
	ErrTruncated = store.ErrTruncated
	// ErrCorrupt is returned when the log's stored data fails a check in a
	// way a crash cannot explain: run the verifier.
	ErrCorrupt = store.ErrCorrupt
	// ErrNotLog is returned by Open (with NoCreate or ReadOnly) for a
	// directory that holds no log.
	ErrNotLog = store.ErrNotLog
	// ErrLocked is returned by Open when another process has the log open
	// for writing.
	ErrLocked = store.ErrLocked
	// ErrPoisoned is returned by appends after the store failed to make a
	// write durable: reopen the log, which recovers.
	ErrPoisoned = store.ErrPoisoned
	// ErrErased is returned by Erase for an entry that is already erased.
	ErrErased = store.ErrErased
	// ErrOverloaded is returned by Append and Submit, at once, when too
	// many appends are pending (Options.MaxPending): retry later. The
	// server answers it with 503 and Retry-After.
	ErrOverloaded = commit.ErrOverloaded
	// ErrEmpty is returned by Checkpoint on a log without entries.
	ErrEmpty = errors.New("sealog: log is empty: no checkpoint yet")
	// ErrKeyPermissions is returned by LoadKey for a key file that others
	// can read.
	ErrKeyPermissions = keys.ErrKeyPermissions
)

// KeyError is the error of Open and New (wrapped) for a key that is not
// the one the log is signed by now: errors.As finds it, with the key
// given, the current one, and whether the key given was rotated out.
type KeyError = store.KeyError
