package memstore

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"github.com/sealog/sealog/store"
)

var _ store.Timestamps = (*Store)(nil)

// PutTimestamp keeps a copy of tsr for tree size size.
func (s *Store) PutTimestamp(ctx context.Context, size uint64, tsr []byte) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if len(tsr) == 0 || len(tsr) > store.MaxTimestampSize {
		return fmt.Errorf("memstore: timestamp response of %d bytes (want 1 to %d)", len(tsr), store.MaxTimestampSize)
	}
	s.db.mu.Lock()
	defer s.db.mu.Unlock()
	if size == 0 || size > s.db.head.Size {
		return fmt.Errorf("memstore: timestamp for tree size %d: the log has %d entries", size, s.db.head.Size)
	}
	if _, ok := s.db.tsrs[size]; ok {
		return fmt.Errorf("memstore: %w", store.ErrTimestampExists)
	}
	if s.db.tsrs == nil {
		s.db.tsrs = map[uint64][]byte{}
	}
	s.db.tsrs[size] = bytes.Clone(tsr)
	return nil
}

// ReadTimestamps calls fn with a copy of each response, in ascending size.
func (s *Store) ReadTimestamps(ctx context.Context, fn func(size uint64, tsr []byte) error) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	s.db.mu.RLock()
	sizes := make([]uint64, 0, len(s.db.tsrs))
	for n := range s.db.tsrs {
		sizes = append(sizes, n)
	}
	slices.Sort(sizes)
	tsrs := make([][]byte, len(sizes))
	for i, n := range sizes {
		tsrs[i] = bytes.Clone(s.db.tsrs[n])
	}
	s.db.mu.RUnlock()
	for i, n := range sizes {
		if err := fn(n, tsrs[i]); err != nil {
			return err
		}
	}
	return nil
}
