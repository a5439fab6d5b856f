package memstore_test

import (
	"testing"

	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/store/memstore"
	"github.com/sealog/sealog/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Options{
		New: func(t *testing.T, meta store.Metadata) storetest.Opener {
			db := memstore.NewDB(meta)
			return func(t *testing.T) store.Store { return db.Open() }
		},
	})
}
