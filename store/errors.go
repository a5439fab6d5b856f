package store

import (
	"errors"
	"fmt"
)

// Errors a Store returns for callers to branch on (with errors.Is). They
// are defined here once; package sealog re-exports them.
var (
	// ErrNotFound: the entry (or batch end) is not committed.
	ErrNotFound = errors.New("entry not found")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store closed")
	// ErrReadOnly: the store was opened for reading only.
	ErrReadOnly = errors.New("log opened read-only")
	// ErrPoisoned: a write or fsync failed, so what reached the disk is
	// unknown; the store refuses writes until it is reopened, which
	// recovers.
	ErrPoisoned = errors.New("the log refuses writes after an I/O failure; reopen it")
	// ErrCorrupt: the stored log fails a check in a way a crash cannot
	// cause. Run the verifier to see what changed.
	ErrCorrupt = errors.New("log damaged")
	// ErrTruncated: the log holds fewer entries than a checkpoint it
	// signed: entries were removed after they were acknowledged.
	ErrTruncated = errors.New("log truncated")
	// ErrLocked: another process holds the log open for writing.
	ErrLocked = errors.New("log is open for writing by another process")
	// ErrErased: the entry is already erased.
	ErrErased = errors.New("entry already erased")
	// ErrNotLog: the place named holds no sealog log.
	ErrNotLog = errors.New("not a sealog log")
	// ErrSchema: the backend's schema is older or newer than this version
	// of sealog knows.
	ErrSchema = errors.New("unsupported store schema version")
)

// ConflictError is returned by Store.Append when the batch does not start
// at the committed size: another writer committed first. Nothing was
// written. Head is the committed state found.
type ConflictError struct {
	First uint64 // the batch's first seq
	Head  Head   // the committed head
	// Reserved says that the store holds the head for this writer's
	// next Append (a SQL store's turn): a batch built on Head cannot
	// lose again, so the writer retries at once, without the pause that
	// lets a loser in where nothing is reserved.
	Reserved bool
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("append conflict: batch starts at %d but the log has %d entries", e.First, e.Head.Size)
}

// SchemaError is the error (wrapping ErrSchema) of a SQL store whose
// schema is at another version than this sealog's: Found older than Known
// can be migrated (Options.Migrate, `sealog migrate`); newer needs a newer
// sealog.
type SchemaError struct {
	Where string // the log: the schema or the file
	Found int    // the schema's version
	Known int    // this sealog's
}

func (e *SchemaError) Error() string {
	if e.Found > e.Known {
		return fmt.Sprintf("%s: the schema is at version %d, newer than this sealog knows (%d): upgrade sealog", e.Where, e.Found, e.Known)
	}
	return fmt.Sprintf("%s: the schema is at version %d, older than this sealog's %d: migrate it (Options.Migrate, or 'sealog migrate') once no older sealog uses it", e.Where, e.Found, e.Known)
}

// Unwrap makes errors.Is(err, ErrSchema) true.
func (e *SchemaError) Unwrap() error { return ErrSchema }

// Older reports whether migrating would bring the schema up to date.
func (e *SchemaError) Older() bool { return e.Found < e.Known }

// KeyError is the error of opening a log for writing with a key that is
// not the one it is signed by now (the store's, or the newest of its key
// chain). Rotated says that the key given was the log's key once, and was
// rotated out by the rotation record at RotatedAt.
type KeyError struct {
	Log       string // the log: a directory, a schema, a file
	Given     string // the verifier key of the key given
	Current   string // the verifier key the log is signed by now
	Rotated   bool
	RotatedAt uint64
}

func (e *KeyError) Error() string {
	if e.Rotated {
		return fmt.Sprintf("%s: the key given (%q) was rotated out at entry %d; the log is now signed by %q", e.Log, e.Given, e.RotatedAt, e.Current)
	}
	return fmt.Sprintf("%s is signed by another key: %q, not by the key given (%q)", e.Log, e.Current, e.Given)
}
