package file

import (
	"errors"
	"log/slog"
	"time"
)

// DefaultSegmentSize is the size at which a segment is sealed and a new one
// started, when Options.SegmentSize is zero.
const DefaultSegmentSize = 64 << 20

// Options configure Open. The zero value opens an existing log for writing.
type Options struct {
	// Create makes Open create the log when dir holds none (dir itself is
	// created if missing). Origin and Key are then required.
	Create bool
	// Origin is the log's origin (checkpoint first line); needed to create.
	Origin string
	// Key is the log's note verifier key. Needed to create; when opening an
	// existing log, a non-empty Key must be the one the log was created
	// with.
	Key string
	// ReadOnly opens without taking the writer lock and without recovery:
	// the store serves what the log's checkpoint file covers, and Append
	// fails. Another process may be writing the log meanwhile.
	ReadOnly bool
	// SegmentSize is the size in bytes at which the active segment is
	// sealed; 0 means DefaultSegmentSize.
	SegmentSize int64
	// Compress compresses sealed segments with zstd, in the background.
	Compress bool
	// Logger receives what recovery and compaction did; nil is silent.
	Logger *slog.Logger
	// Now is the clock for the creation time in the metadata; nil means
	// time.Now.
	Now func() time.Time
}

// ErrReadOnly is returned by Append on a store opened ReadOnly.
var ErrReadOnly = errors.New("log opened read-only")

// ErrTruncated means the log holds fewer entries than a checkpoint it
// signed: entries were removed after they were acknowledged.
var ErrTruncated = errors.New("log truncated")

// ErrCorrupt means a log's files fail a check in a way a crash cannot
// cause. Run the verifier to see what changed.
var ErrCorrupt = errors.New("log damaged")

var errClosed = errors.New("store closed")
