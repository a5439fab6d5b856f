package postgres

import (
	"time"

	"github.com/sealog/sealog/internal/sqlschema"
)

// AddMigration makes this package stand for a later sealog whose schema
// has one more migration, sql, until restore is called.
func AddMigration(name, sql string) (restore func()) {
	old := migrations
	migrations = append(migrations[:len(old):len(old)], sqlschema.Migration{Version: old[len(old)-1].Version + 1, Name: name, SQL: sql})
	return func() { migrations = old }
}

// AtVersion makes this package stand for an earlier sealog whose schema
// ends at version v, until restore is called.
func AtVersion(v int) (restore func()) {
	old := migrations
	migrations = old[:v:v]
	return func() { migrations = old }
}

// ShortLeaseSkip makes the first pause after a wait for the writer lease
// in vain d instead of a second, until restore is called.
func ShortLeaseSkip(d time.Duration) (restore func()) {
	old := leaseSkip
	leaseSkip = d
	return func() { leaseSkip = old }
}

// LeaseMisses returns how often s waited for the writer lease in vain
// since it last held it.
func LeaseMisses(s *Store) int {
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	return s.leaseMisses
}
