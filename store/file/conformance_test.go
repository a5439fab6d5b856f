//go:build unix

package file_test

import (
	"path/filepath"
	"testing"

	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/store/file"
	"github.com/sealog/sealog/store/storetest"
)

var _ store.Store = (*file.Store)(nil)

func TestConformance(t *testing.T) {
	_, vkey := storetest.Key()
	storetest.Run(t, func(t *testing.T) storetest.Opener {
		dir := filepath.Join(t.TempDir(), "log")
		return func(t *testing.T) store.Store {
			s, err := file.Open(dir, file.Options{Create: true, Origin: storetest.Origin, Key: vkey, SegmentSize: 2048, Logger: logger(t)})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	})
}
