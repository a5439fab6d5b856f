package sealog

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/sealog/sealog/store/file"
)

// Options configure Open and New. Key is required to write; everything
// else has a documented default.
type Options struct {
	// Key signs the log's checkpoints. Creating a log records its verifier
	// key; opening an existing log checks that Key is that key. Required
	// unless ReadOnly.
	Key *Key

	// ReadOnly opens the log for reading only, without Key. Over the file
	// store it takes no writer lock and does no recovery: it sees the
	// entries covered by the log's checkpoint file, and catches up with a
	// writer in another process at each read of the head.
	ReadOnly bool

	// File configures the file store that Open uses (segment size,
	// compression, NoCreate); Open fills in its Origin, Key, ReadOnly,
	// Logger and Now from the fields here. New ignores it.
	File file.Options

	// Logger receives recovery reports, conflicts and errors. nil is
	// silent.
	Logger *slog.Logger

	// MaxBatch caps the entries committed in one group (one store append,
	// one signature). 0 means 4096. AppendBatch calls larger than this
	// still commit as one group.
	MaxBatch int

	// MaxPending caps the appends submitted and not yet answered; past it
	// Append, AppendBatch and Submit fail at once with ErrOverloaded
	// instead of queueing without bound. 0 means 16384.
	MaxPending int

	// CommitTimeout bounds each store append; 0 means one minute. A
	// commit that times out has an unknown outcome, which the engine
	// settles by reading the store back before answering.
	CommitTimeout time.Duration

	// MaxRetries caps how often a batch that lost a race with another
	// writer of a shared store is re-sequenced before its callers get an
	// error; 0 means 16.
	MaxRetries int

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

	// Timestamper, if set, obtains an RFC 3161 timestamp token over the
	// log's checkpoints, which the store keeps (it must implement
	// store.Timestamps): after every batch, or at most once per
	// TimestampInterval, always for the newest checkpoint. It runs beside
	// the appends and never delays them; a TSA that is down widens the
	// gap Log.TimestampStatus reports. package tsa has one over HTTP.
	Timestamper Timestamper
	// TimestampInterval is the least time between two timestamp requests;
	// 0 asks after every batch (when the previous request is done).
	TimestampInterval time.Duration
	// TimestampTimeout bounds one timestamp request; 0 means 10 seconds.
	TimestampTimeout time.Duration

	// Check, if set, is run by Open and New once the log is open (after
	// crash recovery) and before they return: a start-up integrity check.
	// An error from it closes the log and fails the Open. Package
	// integrity provides one (integrity.Startup) that checks the entries
	// since the last checkpoint verified, or all of them.
	Check func(ctx context.Context, l *Log) error
}

const (
	defaultMaxEventSize = 1 << 20
	maxEventSizeLimit   = 3 << 20 // leaves room in format.MaxLineSize for the line's other members
)
