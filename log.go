package sealog

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/store/file"
	"github.com/sealog/sealog/tree"
)

// Log is an open audit log. Its methods are safe for concurrent use.
type Log struct {
	st       store.Store
	dir      string
	origin   string
	verifier note.Verifier
	vkey     string
	key      *Key // nil when read-only
	opts     Options
	log      *slog.Logger
	clock    func() time.Time
	rand     io.Reader

	closeMu sync.RWMutex // held (read) while submitting; Close takes it to stop submissions
	closed  bool
	reqs    chan *request
	seqDone chan struct{} // closed when the sequencer and committer have stopped

	failMu sync.Mutex
	failed error // set once a commit fails: the log refuses appends until reopened

	// active counts requests submitted and not yet answered, so that the
	// sequencer knows whether more are on their way (see gather).
	active atomic.Int64
	peak   atomic.Int64 // the most requests active at once since the last batch closed
}

// Errors callers can branch on.
var (
	// ErrClosed is returned by calls on a closed Log.
	ErrClosed = errors.New("sealog: log closed")
	// ErrReadOnly is returned by Append on a log opened ReadOnly.
	ErrReadOnly = errors.New("sealog: log opened read-only")
	// ErrNotFound is returned for an entry that is not in the log.
	ErrNotFound = store.ErrNotFound
	// ErrEmpty is returned by Checkpoint on a log without entries.
	ErrEmpty = errors.New("sealog: log is empty: no checkpoint yet")
	// ErrTruncated is returned by Open when the log holds fewer entries
	// than a checkpoint it signed.
	ErrTruncated = file.ErrTruncated
	// ErrCorrupt is returned by Open when the log's files were changed in
	// a way a crash cannot explain.
	ErrCorrupt = file.ErrCorrupt
	// ErrNotLog is returned by Open (with NoCreate or ReadOnly) for a
	// directory that holds no log.
	ErrNotLog = layout.ErrNotLog
	// ErrKeyPermissions is returned by LoadKey for a key file that others
	// can read.
	ErrKeyPermissions = errors.New("key file readable by others")
)

// Open opens the log in dir, creating it (and dir) if dir holds no log.
// Opened for writing, it first recovers from any crash: a torn or
// unacknowledged tail is cut and kept aside in dir/torn, and what happened
// is reported to Options.Logger. A second process that opens the same log
// for writing gets an error.
func Open(dir string, opts Options) (*Log, error) {
	if !opts.ReadOnly && opts.Key == nil {
		return nil, errors.New("sealog: Open needs Options.Key to write (or Options.ReadOnly)")
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = defaultMaxBatch
	}
	if opts.MaxEventSize <= 0 {
		opts.MaxEventSize = defaultMaxEventSize
	}
	if opts.MaxEventSize > maxEventSizeLimit {
		return nil, fmt.Errorf("sealog: MaxEventSize %d is above the limit of %d", opts.MaxEventSize, maxEventSizeLimit)
	}
	lg := opts.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	fo := file.Options{
		ReadOnly:    opts.ReadOnly,
		SegmentSize: opts.SegmentSize,
		Compress:    opts.Compress,
		Logger:      lg,
		Now:         opts.Clock,
	}
	if opts.Key != nil {
		fo.Create, fo.Origin, fo.Key = !opts.ReadOnly && !opts.NoCreate, opts.Key.Origin(), opts.Key.VerifierKey()
	}
	st, err := file.Open(dir, fo)
	if err != nil {
		return nil, fmt.Errorf("sealog: %w", err)
	}
	meta := st.Metadata()
	l, err := newLog(st, dir, meta, opts, lg)
	if err != nil {
		st.Close()
		return nil, err
	}
	return l, nil
}

func newLog(st store.Store, dir string, meta layout.Metadata, opts Options, lg *slog.Logger) (*Log, error) {
	v, err := note.NewVerifier(meta.Key)
	if err != nil {
		return nil, fmt.Errorf("sealog: %s: %w", dir, err)
	}
	l := &Log{
		st: st, dir: dir, origin: meta.Origin, verifier: v, vkey: meta.Key,
		key: opts.Key, opts: opts, log: lg,
		clock: opts.Clock, rand: opts.Rand,
		seqDone: make(chan struct{}),
	}
	if l.clock == nil {
		l.clock = time.Now
	}
	if l.rand == nil {
		l.rand = rand.Reader
	}
	if opts.ReadOnly {
		l.key = nil
		close(l.seqDone)
		return l, nil
	}
	h := st.Head()
	edge, err := tree.Load(h.Size, st)
	if err != nil {
		return nil, fmt.Errorf("sealog: loading the tree: %w", err)
	}
	l.reqs = make(chan *request, 1024)
	seq := &sequencer{log: l, edge: edge, next: h.Size, last: h.LastLeaf, lastTime: h.LastTime}
	seq.start()
	return l, nil
}

// Dir returns the log's directory.
func (l *Log) Dir() string { return l.dir }

// Origin returns the log's origin, the first line of its checkpoints.
func (l *Log) Origin() string { return l.origin }

// VerifierKey returns the log's public verifier key.
func (l *Log) VerifierKey() string { return l.vkey }

// Size returns the number of committed entries.
func (l *Log) Size() uint64 { return l.st.Head().Size }

// Close waits for pending appends to commit, then closes the log: the
// checkpoint file and derived files are written durably and the writer
// lock is released. Appends after Close fail with ErrClosed.
func (l *Log) Close() error {
	l.closeMu.Lock()
	if l.closed {
		l.closeMu.Unlock()
		return nil
	}
	l.closed = true
	if l.reqs != nil {
		close(l.reqs)
	}
	l.closeMu.Unlock()
	<-l.seqDone
	if err := l.st.Close(); err != nil {
		return fmt.Errorf("sealog: closing %s: %w", l.dir, err)
	}
	return nil
}

// Checkpoint returns the latest signed checkpoint.
func (l *Log) Checkpoint() (Checkpoint, error) {
	h := l.st.Head()
	if h.Size == 0 {
		return Checkpoint{}, ErrEmpty
	}
	c, err := checkpoint.ParseUnverified(h.Checkpoint)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("sealog: %w", err)
	}
	return Checkpoint{Origin: c.Origin, Size: c.Size, Root: c.Root, Note: h.Checkpoint}, nil
}

func (l *Log) fail(err error) {
	l.failMu.Lock()
	if l.failed == nil {
		l.failed = err
	}
	l.failMu.Unlock()
}

func (l *Log) failure() error {
	l.failMu.Lock()
	defer l.failMu.Unlock()
	return l.failed
}

// Refresh updates a log opened ReadOnly with what its writer has committed
// since it was opened (as far as the writer has published its checkpoint,
// a fraction of a second behind). It does nothing on a log open for
// writing.
func (l *Log) Refresh() error {
	fs, ok := l.st.(*file.Store)
	if !ok || !l.opts.ReadOnly {
		return nil
	}
	if err := fs.Refresh(); err != nil {
		return fmt.Errorf("sealog: %w", err)
	}
	return nil
}

// CheckpointAt returns the log's signed checkpoint for its first size
// entries. Every committed batch ends with one, so size must be the end of
// a batch; the error for another size names the next one.
func (l *Log) CheckpointAt(size uint64) (Checkpoint, error) {
	if size == 0 || size > l.Size() {
		return Checkpoint{}, fmt.Errorf("sealog: no checkpoint at size %d (the log has %d entries)", size, l.Size())
	}
	line, err := l.st.ReadLine(size-1, nil)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("sealog: %w", err)
	}
	ln, err := format.ParseLine(line)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("sealog: entry %d: %w", size-1, err)
	}
	if ln.Sig == nil {
		next := size
		for next < l.Size() && next < size+100000 {
			b, err := l.st.ReadLine(next, nil)
			if err != nil {
				break
			}
			if p, err := format.ParseLine(b); err == nil && p.Sig != nil {
				return Checkpoint{}, fmt.Errorf("sealog: no signed checkpoint at size %d: it is not the end of a batch (the next one is at size %d)", size, next+1)
			}
			next++
		}
		return Checkpoint{}, fmt.Errorf("sealog: no signed checkpoint at size %d: it is not the end of a batch", size)
	}
	root, err := l.TreeHash(size)
	if err != nil {
		return Checkpoint{}, err
	}
	text := checkpoint.Checkpoint{Origin: l.origin, Size: size, Root: root}.Text()
	if !checkpoint.VerifyText(l.verifier, text, ln.Sig) {
		return Checkpoint{}, fmt.Errorf("sealog: entry %d: %w: its batch signature does not verify", size-1, ErrCorrupt)
	}
	return Checkpoint{Origin: l.origin, Size: size, Root: root, Note: checkpoint.Assemble(text, l.origin, ln.Sig)}, nil
}
