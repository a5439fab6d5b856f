//go:build unix

package file

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/sealog/sealog/internal/durable"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/store"
)

var _ store.Timestamps = (*Store)(nil)

// PutTimestamp stores tsr as timestamps/<size>.tsr (docs/FORMAT.md §12),
// created exclusively and made durable, file and directory entry both.
func (s *Store) PutTimestamp(ctx context.Context, size uint64, tsr []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.opts.ReadOnly {
		return store.ErrReadOnly
	}
	if len(tsr) == 0 || len(tsr) > store.MaxTimestampSize {
		return fmt.Errorf("timestamp response of %d bytes (want 1 to %d)", len(tsr), store.MaxTimestampSize)
	}
	s.mu.RLock()
	closed, head := s.closed, s.head
	s.mu.RUnlock()
	if closed {
		return store.ErrClosed
	}
	if size == 0 || size > head.Size {
		return fmt.Errorf("timestamp for tree size %d: the log has %d entries", size, head.Size)
	}
	dir := filepath.Join(s.dir, layout.TimestampsDir)
	if err := os.Mkdir(dir, 0o755); err == nil {
		if err := durable.SyncDir(s.dir); err != nil {
			return err
		}
	} else if !errors.Is(err, fs.ErrExist) {
		return err
	}
	err := durable.WriteNew(filepath.Join(dir, layout.TimestampName(size)), tsr, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return store.ErrTimestampExists
	}
	return err
}

// ReadTimestamps reads timestamps/ in ascending size; a file that is not
// a regular file, or too large, is an error.
func (s *Store) ReadTimestamps(ctx context.Context, fn func(size uint64, tsr []byte) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ts, damage, err := layout.Timestamps(s.dir)
	if err != nil {
		return err
	}
	if len(damage) > 0 {
		return fmt.Errorf("%s: %s", s.dir, damage[0])
	}
	for _, t := range ts {
		if err := ctx.Err(); err != nil {
			return err
		}
		b, err := layout.ReadRegular(t.Path, layout.MaxTimestampFile)
		if err != nil {
			return err
		}
		if err := fn(t.Size, b); err != nil {
			return err
		}
	}
	return nil
}
