package postgres_test

import (
	"testing"
	"time"

	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/store/postgres"
	"github.com/sealog/sealog/store/storetest"
)

// The PostgreSQL store passes the conformance suite as a shared backend:
// every Opener call is a new Store (its own pool), as another process
// would open it. Small pages make ReadLines cross page boundaries.
func TestConformance(t *testing.T) {
	d := dsn(t)
	storetest.Run(t, storetest.Options{
		New: func(t *testing.T, meta store.Metadata) storetest.Opener {
			schema := newSchema(t, d)
			return func(t *testing.T) store.Store {
				return open(t, d, schema, postgres.Options{
					Origin: meta.Origin, Key: meta.Key, PageSize: 7, MaxConns: 4,
					Now: func() time.Time { return meta.Created },
				})
			}
		},
	})
}
