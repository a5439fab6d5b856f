package file

import (
	"errors"
	"log/slog"
	"time"
)

// DefaultSegmentSize is the size at which a segment is sealed and a new one
// started, when Options.SegmentSize is zero.
const DefaultSegmentSize = 64 << 20

// Options configure Open. The zero value opens an existing log for
// writing; with Origin and Key set, Open creates the log if dir holds none.
type Options struct {
	// NoCreate makes Open fail with an error wrapping store.ErrNotLog when
	// dir holds no log, even with Origin and Key set.
	NoCreate bool
	// Origin is the log's origin (checkpoint first line); needed to create
	// (dir itself is created if missing).
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
	// KeepPlain is how long a sealed segment's plain file stays after its
	// compressed copy appeared, for readers that listed the directory a
	// moment before; 0 means 10 seconds.
	KeepPlain time.Duration
	// Logger receives what recovery and compaction did; nil is silent.
	Logger *slog.Logger
	// Now is the clock for the creation time in the metadata; nil means
	// time.Now.
	Now func() time.Time
}

// ErrRecoveryNeeded is returned by a read-only Open of a log whose
// derived files (index, hashes) do not yet cover its checkpoint: its
// writer did not close it cleanly. Opening it for writing once recovers.
var ErrRecoveryNeeded = errors.New("derived files short")
