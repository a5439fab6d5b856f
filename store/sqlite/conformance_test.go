package sqlite_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/store/sqlite"
	"github.com/sealog/sealog/store/storetest"
)

// The SQLite store passes the conformance suite as a shared backend:
// every Opener call is a new Store on the file, with its own connections,
// as another process would open it. Small pages make ReadLines cross page
// boundaries.
func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Options{
		New: func(t *testing.T, meta store.Metadata) storetest.Opener {
			path := filepath.Join(t.TempDir(), "log.db")
			return func(t *testing.T) store.Store {
				s, err := sqlite.Open(path, sqlite.Options{
					Origin: meta.Origin, Key: meta.Key, PageSize: 7, Logger: testkit.Logger(t),
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
