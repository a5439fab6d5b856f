package sealog

import (
	"io"
	"log/slog"
	"time"
)

// Options configure Open. Key is required to write; everything else has a
// documented default.
type Options struct {
	// Key signs the log's checkpoints. Creating a log records its verifier
	// key; opening an existing log checks that Key is that key. Required
	// unless ReadOnly.
	Key *Key

	// NoCreate makes Open fail, with an error wrapping ErrNotLog, when the
	// directory holds no log, instead of creating one.
	NoCreate bool

	// ReadOnly opens the log for reading only, without Key, without the
	// writer lock and without recovery. It sees the entries covered by the
	// log's checkpoint file when it was opened; another process may be
	// writing meanwhile.
	ReadOnly bool

	// Logger receives recovery reports and errors. nil is silent.
	Logger *slog.Logger

	// SegmentSize is the size at which a segment file is sealed and a new
	// one started. 0 means 64 MiB.
	SegmentSize int64

	// Compress compresses sealed segments with zstd in the background.
	// Compressed segments verify like plain ones.
	Compress bool

	// MaxBatch caps the entries committed in one group (one write, one
	// fsync, one signature). 0 means 4096. AppendBatch calls larger than
	// this still commit as one group.
	MaxBatch int

	// MaxEventSize caps the encoded size of one event. 0 means 1 MiB.
	MaxEventSize int

	// ReceiptProofs makes Append and AppendBatch put the inclusion proof in
	// each Receipt. Computing it costs about as much CPU as the rest of an
	// append, so it is off by default: Log.Prove fills in a receipt's proof
	// later, for the receipts that are handed out.
	ReceiptProofs bool

	// Clock returns the time to stamp entries with; nil means time.Now.
	// The log never lets time go backwards, whatever Clock returns.
	Clock func() time.Time

	// Rand is the source of body salts; nil means crypto/rand.
	Rand io.Reader
}

const (
	defaultMaxBatch     = 4096
	defaultMaxEventSize = 1 << 20
	maxEventSizeLimit   = 3 << 20 // leaves room in format.MaxLineSize for the line's other members
)
