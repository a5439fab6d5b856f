package sqlrows

import (
	"context"
	"fmt"

	"github.com/sealog/sealog/store"
)

// TimestampPage is how many timestamp rows a SQL store reads per query
// in ReadTimestamps: at most TimestampPage × store.MaxTimestampSize
// bytes (4 MiB) in memory, and no connection held while the caller's
// function runs.
const TimestampPage = 64

// TimestampRow is one row of a SQL store's timestamps table, as read.
type TimestampRow struct {
	Size int64
	TSR  []byte
}

// PutTimestamp is store.Timestamps.PutTimestamp for the SQL stores, with
// the checks both make: tsr is 1 to store.MaxTimestampSize bytes, size is
// at least 1 and at most the committed size. insert stores the row in one
// transaction, keeping a row present already, and reports the head's
// size in that transaction and whether it inserted; it must insert
// nothing when size exceeds that head. Errors start with backend
// ("postgres", "sqlite").
func PutTimestamp(backend string, size uint64, tsr []byte, insert func(size int64, tsr []byte) (head uint64, inserted bool, err error)) error {
	if len(tsr) == 0 || len(tsr) > store.MaxTimestampSize {
		return fmt.Errorf("%s: timestamp response of %d bytes (want 1 to %d)", backend, len(tsr), store.MaxTimestampSize)
	}
	if size == 0 || size > MaxSeq+1 {
		return fmt.Errorf("%s: timestamp for tree size %d: not a tree size a log can have", backend, size)
	}
	head, inserted, err := insert(int64(size), tsr)
	switch {
	case err != nil:
		return fmt.Errorf("%s: storing the timestamp for tree size %d: %w", backend, size, err)
	case inserted:
		return nil
	case size > head:
		return fmt.Errorf("%s: timestamp for tree size %d: the log has %d entries", backend, size, head)
	default:
		return fmt.Errorf("%s: tree size %d: %w", backend, size, store.ErrTimestampExists)
	}
}

// ReadTimestamps is store.Timestamps.ReadTimestamps for the SQL stores:
// it reads page by page, page(after) returning up to TimestampPage rows
// of size greater than after, in ascending size, and calls fn with each.
// A row whose size is not a tree size or whose response is empty or
// larger than store.MaxTimestampSize is an error wrapping
// store.ErrCorrupt (the table's constraints forbid them: the database was
// changed outside sealog). Its own errors start with backend; fn's are
// returned as they are.
func ReadTimestamps(ctx context.Context, backend string, page func(after int64) ([]TimestampRow, error), fn func(size uint64, tsr []byte) error) error {
	var after int64
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%s: %w", backend, err)
		}
		rows, err := page(after)
		if err != nil {
			return fmt.Errorf("%s: reading the timestamps: %w", backend, err)
		}
		for _, r := range rows {
			switch {
			case r.Size <= after:
				return fmt.Errorf("%s: the timestamps table returned size %d after %d: %w", backend, r.Size, after, store.ErrCorrupt)
			case len(r.TSR) == 0 || len(r.TSR) > store.MaxTimestampSize:
				return fmt.Errorf("%s: the timestamp for tree size %d has %d bytes (want 1 to %d): %w", backend, r.Size, len(r.TSR), store.MaxTimestampSize, store.ErrCorrupt)
			}
			if err := fn(uint64(r.Size), r.TSR); err != nil {
				return err
			}
			after = r.Size
		}
		if len(rows) < TimestampPage {
			return nil
		}
	}
}
