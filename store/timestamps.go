package store

import (
	"context"
	"errors"
)

// Timestamps is implemented by a store that keeps RFC 3161 timestamp
// responses for the log's checkpoints (docs/FORMAT.md §12). They are
// evidence about the log, not part of it: the Log asks a time-stamping
// authority for one after a batch and stores it here, and a verifier
// checks each against the tree it rebuilds from the entries. The file
// store, memstore, SQLite and PostgreSQL implement it; a Log given a
// Timestamper over a store that does not refuses to open.
type Timestamps interface {
	// PutTimestamp durably stores tsr, a DER TimeStampResp whose token's
	// message imprint is the SHA-256 of the checkpoint text of tree size
	// size. The store keeps the first response for a size: a second one
	// is dropped and PutTimestamp returns ErrTimestampExists. size must
	// not exceed the committed size (an error otherwise).
	PutTimestamp(ctx context.Context, size uint64, tsr []byte) error

	// ReadTimestamps calls fn with each stored response, in ascending
	// size, stopping at the first error fn returns. The bytes are the
	// caller's, and untrusted.
	ReadTimestamps(ctx context.Context, fn func(size uint64, tsr []byte) error) error
}

// ErrTimestampExists is returned by Timestamps.PutTimestamp when the store
// already holds a response for that size.
var ErrTimestampExists = errors.New("a timestamp for this checkpoint is stored already")

// MaxTimestampSize bounds one stored timestamp response (a token with a
// certificate chain is a few KiB).
const MaxTimestampSize = 64 << 10
