//go:build !unix

package file

import (
	"context"
	"errors"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/store"
)

// ErrUnsupported is returned by Open on platforms without flock and mmap.
var ErrUnsupported = errors.New("the embedded file store needs a Unix system (flock, mmap); verification works everywhere")

// Store is not available on this platform.
type Store struct{}

// Open fails with ErrUnsupported.
func Open(dir string, opts Options) (*Store, error) { return nil, ErrUnsupported }

// Head is not available on this platform.
func (s *Store) Head() store.Head { return store.Head{} }

// Write is not available on this platform.
func (s *Store) Write(context.Context, *store.Batch) error { return ErrUnsupported }

// Sync is not available on this platform.
func (s *Store) Sync(context.Context) (uint64, error) { return 0, ErrUnsupported }

// ReadHashes is not available on this platform.
func (s *Store) ReadHashes([]int64) ([]tlog.Hash, error) { return nil, ErrUnsupported }

// ReadLine is not available on this platform.
func (s *Store) ReadLine(uint64, []byte) ([]byte, error) { return nil, ErrUnsupported }

// ReadLines is not available on this platform.
func (s *Store) ReadLines(context.Context, uint64, uint64, func(uint64, []byte) error) error {
	return ErrUnsupported
}

// Erase is not available on this platform.
func (s *Store) Erase(context.Context, uint64, []byte) error { return ErrUnsupported }

// Close does nothing.
func (s *Store) Close() error { return nil }

// Refresh is not available on this platform.
func (s *Store) Refresh() error { return ErrUnsupported }

// Metadata is not available on this platform.
func (s *Store) Metadata() layout.Metadata { return layout.Metadata{} }

// Dir is not available on this platform.
func (s *Store) Dir() string { return "" }

var _ store.Store = (*Store)(nil)
