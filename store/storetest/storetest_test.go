package storetest_test

import (
	"sync"
	"testing"

	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/store/memstore"
	"github.com/sealog/sealog/store/storetest"
)

// TestSingleWriter runs the suite as a single-writer backend would see
// it: the Opener fails the test if it is called while a handle is open.
func TestSingleWriter(t *testing.T) {
	storetest.Run(t, storetest.Options{
		SingleWriter: true,
		New: func(t *testing.T, meta store.Metadata) storetest.Opener {
			db := memstore.NewDB(meta)
			var (
				mu   sync.Mutex
				open bool
			)
			return func(t *testing.T) store.Store {
				mu.Lock()
				defer mu.Unlock()
				if open {
					t.Fatal("the suite opened a second handle on a single-writer backend")
				}
				open = true
				return &exclusive{Store: db.Open(), release: func() {
					mu.Lock()
					defer mu.Unlock()
					open = false
				}}
			}
		},
	})
}

// exclusive is a handle that releases its log when closed.
type exclusive struct {
	*memstore.Store
	once    sync.Once
	release func()
}

func (e *exclusive) Close() error {
	err := e.Store.Close()
	e.once.Do(e.release)
	return err
}
