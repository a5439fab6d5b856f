//go:build !unix

package file

import (
	"context"
	"errors"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/store"
)

// ErrUnsupported is returned by Open on platforms without flock and mmap.
var ErrUnsupported = errors.New("the embedded file store needs a Unix system (flock, mmap); verification works everywhere")

// Store is not available on this platform.
type Store struct{}

// Open fails with ErrUnsupported.
func Open(dir string, opts Options) (*Store, error) { return nil, ErrUnsupported }

// Metadata is not available on this platform.
func (s *Store) Metadata(context.Context) (store.Metadata, error) {
	return store.Metadata{}, ErrUnsupported
}

// Head is not available on this platform.
func (s *Store) Head(context.Context) (store.Head, error) { return store.Head{}, ErrUnsupported }

// Append is not available on this platform.
func (s *Store) Append(context.Context, *store.Batch) (store.Head, error) {
	return store.Head{}, ErrUnsupported
}

// ReadHashes is not available on this platform.
func (s *Store) ReadHashes(context.Context, []int64) ([]tlog.Hash, error) {
	return nil, ErrUnsupported
}

// ReadLine is not available on this platform.
func (s *Store) ReadLine(context.Context, uint64) (store.Line, error) {
	return store.Line{}, ErrUnsupported
}

// ReadLines is not available on this platform.
func (s *Store) ReadLines(context.Context, uint64, uint64, func(store.Line) error) error {
	return ErrUnsupported
}

// BatchEnd is not available on this platform.
func (s *Store) BatchEnd(context.Context, uint64) (uint64, error) { return 0, ErrUnsupported }

// Close does nothing.
func (s *Store) Close() error { return nil }

// Dir is not available on this platform.
func (s *Store) Dir() string { return "" }

var _ store.Store = (*Store)(nil)
