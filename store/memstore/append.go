package memstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/store"
)

// Append commits b if and only if the log's size is b.First, with its
// erasures, in one critical section, and returns the new head. A batch
// that starts elsewhere gets a *store.ConflictError with the current head.
// A malformed batch, an erasure that CheckErasure refuses or names an
// entry at or after b.First, or a cancelled ctx commits nothing. Append
// copies what it keeps: the caller may reuse b's buffers once it returns.
func (s *Store) Append(ctx context.Context, b *store.Batch) (store.Head, error) {
	if err := s.check(ctx); err != nil {
		return store.Head{}, err
	}
	if s.poisoned.Load() {
		return store.Head{}, fmt.Errorf("memstore: %w", store.ErrPoisoned)
	}
	var after error
	if err := s.db.injected(b); err != nil {
		if errors.Is(err, store.ErrPoisoned) {
			s.poisoned.Store(true)
		}
		var ac *afterCommit
		if !errors.As(err, &ac) {
			return store.Head{}, fmt.Errorf("memstore: %w", err)
		}
		after = ac.err
	}
	h, err := s.db.append(ctx, b)
	if err != nil {
		return store.Head{}, err
	}
	if after != nil {
		return store.Head{}, fmt.Errorf("memstore: %w", after)
	}
	return h, nil
}

func (db *DB) append(ctx context.Context, b *store.Batch) (store.Head, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return store.Head{}, fmt.Errorf("memstore: %w", err)
	}
	if b.First != db.head.Size {
		return store.Head{}, &store.ConflictError{First: b.First, Head: db.headLocked()}
	}
	if err := checkBatch(b); err != nil {
		return store.Head{}, fmt.Errorf("memstore: malformed batch at %d: %w", b.First, err)
	}
	erased, err := db.checkErasures(b)
	if err != nil {
		return store.Head{}, fmt.Errorf("memstore: %w", err)
	}

	// Nothing can fail from here on.
	buf := bytes.Clone(b.Lines)
	start := 0
	for _, end := range b.Ends {
		db.lines = append(db.lines, buf[start:end-1:end-1])
		start = end
	}
	db.hashes = append(db.hashes, b.Hashes...)
	db.ends = append(db.ends, b.Size())
	for seq, line := range erased {
		db.lines[seq] = line
	}
	db.head = b.Head()
	db.head.Checkpoint = bytes.Clone(b.Checkpoint)
	return db.headLocked(), nil
}

// checkBatch checks that b is shaped as the contract says: one leaf and
// one newline-terminated line per entry, and the stored hashes of exactly
// its entries. b.First is the log's size, so the counts cannot overflow.
func checkBatch(b *store.Batch) error {
	if len(b.Ends) == 0 {
		return errors.New("no entries")
	}
	if len(b.Leaves) != len(b.Ends) {
		return fmt.Errorf("%d leaves for %d lines", len(b.Leaves), len(b.Ends))
	}
	if b.Ends[len(b.Ends)-1] != len(b.Lines) {
		return fmt.Errorf("the last line ends at %d, not at the end of the %d bytes", b.Ends[len(b.Ends)-1], len(b.Lines))
	}
	start := 0
	for i, end := range b.Ends {
		if end <= start+1 || end > len(b.Lines) {
			return fmt.Errorf("line %d: end %d after %d", i, end, start)
		}
		if nl := bytes.IndexByte(b.Lines[start:end], '\n'); nl != end-start-1 {
			return fmt.Errorf("line %d is not one newline-terminated line", i)
		}
		start = end
	}
	first := tlog.StoredHashIndex(0, int64(b.First))
	if want := tlog.StoredHashCount(int64(b.Size())) - first; int64(len(b.Hashes)) != want {
		return fmt.Errorf("%d stored hashes for %d entries, want %d", len(b.Hashes), len(b.Ends), want)
	}
	for i, leaf := range b.Leaves {
		if b.Hashes[tlog.StoredHashIndex(0, int64(b.First)+int64(i))-first] != leaf {
			return fmt.Errorf("leaf %d differs from its stored hash", i)
		}
	}
	if len(b.Checkpoint) == 0 {
		return errors.New("no checkpoint")
	}
	return nil
}

// checkErasures checks b's erasures against the committed lines, each one
// after those before it in b (so a second erasure of one entry is
// ErrErased), and returns the erased lines by seq, without newlines.
func (db *DB) checkErasures(b *store.Batch) (map[uint64][]byte, error) {
	if len(b.Erasures) == 0 {
		return nil, nil
	}
	erased := make(map[uint64][]byte, len(b.Erasures))
	for _, e := range b.Erasures {
		if e.Seq >= b.First {
			return nil, fmt.Errorf("erasure of entry %d: not committed before the batch at %d", e.Seq, b.First)
		}
		stored, ok := erased[e.Seq]
		if !ok {
			stored = db.lines[e.Seq]
		}
		if err := store.CheckErasure(store.Line{Seq: e.Seq, Leaf: db.leafLocked(e.Seq), Bytes: stored}, e); err != nil {
			return nil, err
		}
		erased[e.Seq] = bytes.Clone(e.Line[:len(e.Line)-1])
	}
	return erased, nil
}
