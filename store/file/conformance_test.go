//go:build unix

package file_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/store/file"
	"github.com/sealog/sealog/store/storetest"
)

var _ store.Store = (*file.Store)(nil)

// The file store passes the conformance suite as a single-writer backend
// (one process holds the writer lock), with small segments so that the
// suite's logs span several.
func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Options{
		SingleWriter: true,
		New: func(t *testing.T, meta store.Metadata) storetest.Opener {
			dir := filepath.Join(t.TempDir(), "log")
			return func(t *testing.T) store.Store {
				s, err := file.Open(dir, file.Options{
					Origin: meta.Origin, Key: meta.Key, SegmentSize: 2048, Logger: logger(t),
					Now: func() time.Time { return meta.Created },
				})
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
		},
	})
}
