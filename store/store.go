// Package store defines what a sealog backend does: persist batches of
// encoded entries with their tree hashes and signed checkpoint, and read
// them back. The Log (package sealog) computes every hash and signature; a
// Store only keeps bytes, so backends stay thin and behave the same.
//
// A Store may be shared: several Logs, in one process or in several, may
// append to one backend (a database). Its one write, Append, is a
// conditional append — it commits a batch only if the batch starts at the
// committed size — so writers that race never fork the log: the loser gets
// a *ConflictError, re-sequences its events after the new head and tries
// again.
//
// Backends: store/file (the embedded default, one writing process),
// store/memstore (in memory, shareable, for tests). Each passes the
// conformance suite in store/storetest.
package store

import (
	"context"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// Head is a log's committed state.
type Head struct {
	Size       uint64    // number of committed entries
	LastLeaf   tlog.Hash // leaf hash of entry Size-1; zero when Size is 0
	LastTime   int64     // time of entry Size-1 (Unix ns); 0 when Size is 0
	Checkpoint []byte    // the signed checkpoint for Size; nil when Size is 0
}

// Metadata is a log's identity, fixed when the log is created.
type Metadata struct {
	Format  string    // "sealog/v1"
	Origin  string    // the first line of the log's checkpoints
	Key     string    // the log's note verifier key
	Created time.Time // when the log was created (UTC)
}

// Batch is one group commit: consecutive entries starting at First.
type Batch struct {
	First uint64
	// Lines holds the entries' canonical lines, each newline-terminated;
	// the last one carries the batch's checkpoint signature.
	Lines []byte
	// Ends[i] is the offset in Lines just past line i.
	Ends []int
	// Leaves[i] is the leaf hash of line i.
	Leaves []tlog.Hash
	// Hashes are the tree's stored hashes for the batch's entries, in tlog
	// order from tlog.StoredHashIndex(0, First).
	Hashes []tlog.Hash
	// Checkpoint is the signed checkpoint of the tree after the batch.
	Checkpoint []byte
	// LastTime is the time of the batch's last entry (Unix ns).
	LastTime int64
	// Erasures, if any, are committed with the batch (which holds the
	// erasure records): each replaces an earlier entry's line by its
	// erased form. See Store.Append.
	Erasures []Erasure
}

// Size returns the log's size once the batch is committed.
func (b *Batch) Size() uint64 { return b.First + uint64(len(b.Ends)) }

// Head returns the log's head once the batch is committed.
func (b *Batch) Head() Head {
	h := Head{Size: b.Size(), LastTime: b.LastTime, Checkpoint: b.Checkpoint}
	if n := len(b.Leaves); n > 0 {
		h.LastLeaf = b.Leaves[n-1]
	}
	return h
}

// Erasure replaces committed entry Seq's line with Line (newline
// included), its erased form: the same header and leaf hash, without the
// salt and the event (docs/FORMAT.md, "Erasure").
type Erasure struct {
	Seq  uint64
	Line []byte
}

// Line is one stored entry as read back: untrusted bytes, like everything
// a store returns, until a verifier has checked them.
type Line struct {
	Seq uint64
	// Leaf is the leaf hash the store holds for the entry (the first of
	// its stored hashes), returned so that reading N entries costs no N
	// extra hash lookups.
	Leaf tlog.Hash
	// Bytes is the stored line without its newline. From ReadLines it is
	// valid only during the callback; from ReadLine it is the caller's.
	Bytes []byte
}

// Store persists a log. All methods are safe for concurrent use. A read
// sees only committed entries, and every committed entry up to the size
// of a Head it returned (or a later one). Every method fails with an error
// wrapping ctx.Err() when ctx is done before it starts (Append then writes
// nothing), and with one wrapping ErrClosed after Close; a second Close
// does no harm.
//
// Durability. When Append returns nil, the batch (and its erasures)
// survives a crash and is visible to every reader of the store. When it
// returns a *ConflictError nothing was written. After any other error the
// outcome is unknown — the batch may or may not have been committed. A
// caller finds out by reading the Head and, if its size is past
// batch.First, the Line at batch.First: the batch committed if and only
// if that line's leaf hash is batch.Leaves[0] (leaf hashes commit to the
// salt, so no other writer produces the same one).
type Store interface {
	// Metadata returns the log's identity.
	Metadata(ctx context.Context) (Metadata, error)

	// Head returns the committed state as of now: another process sharing
	// the store may have appended since the last call.
	Head(ctx context.Context) (Head, error)

	// Append commits the whole batch, atomically and durably, if and only
	// if the committed size equals b.First, and returns the new head. The
	// store copies what it keeps: the caller may reuse b's buffers once
	// Append returns. A batch must hold at least one entry, with Ends,
	// Leaves and the stored hashes matching its lines. If
	// the size differs (another writer got there first) it writes nothing
	// and returns a *ConflictError carrying the current head. A store that
	// cannot make its writes durable any more (a failed fsync) returns an
	// error wrapping ErrPoisoned, now and for every later Append, until it
	// is reopened.
	//
	// b.Erasures are applied in the same commit where the backend can (a
	// database transaction), or right after the batch is durable and
	// before Append returns (the file store, through a journal that
	// reopening finishes). Each must replace a committed entry before
	// b.First by its erased form with the same leaf hash (CheckErasure);
	// otherwise Append commits nothing and returns an error (wrapping
	// ErrErased if the entry is already erased, or named twice), so that
	// two concurrent erasures of one entry never both succeed. A stale
	// batch gets its *ConflictError before its erasures are looked at.
	Append(ctx context.Context, b *Batch) (Head, error)

	// ReadHashes returns the stored hashes at the given tlog indexes, all
	// of them within the committed tree (an index beyond it is an error
	// wrapping ErrNotFound). It is tlog.HashReader with a context;
	// HashReader adapts it.
	ReadHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error)

	// ReadLine returns committed entry seq. ErrNotFound when seq is not
	// committed.
	ReadLine(ctx context.Context, seq uint64) (Line, error)

	// ReadLines calls fn with each committed entry from seq from to to-1,
	// in order; to is capped at the committed size, so a range at or past
	// the head yields nothing and returns nil. It stops at the first error
	// fn returns, and returns it. fn may call the store.
	ReadLines(ctx context.Context, from, to uint64, fn func(Line) error) error

	// BatchEnd returns the smallest size n >= size at which a committed
	// batch ends (entry n-1 carries a checkpoint signature). ErrNotFound
	// when no committed batch ends at or after size.
	BatchEnd(ctx context.Context, size uint64) (uint64, error)

	// Close releases the store. A Store that was handed to a Log is closed
	// by the Log.
	Close() error
}

// HashReader adapts a Store to tlog.HashReader, for the proof functions of
// golang.org/x/mod/sumdb/tlog, with ctx for each read.
func HashReader(ctx context.Context, s Store) tlog.HashReader {
	return hashReader{ctx, s}
}

type hashReader struct {
	ctx context.Context
	s   Store
}

func (h hashReader) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	return h.s.ReadHashes(h.ctx, indexes)
}
