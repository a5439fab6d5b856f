package sqlite

import "github.com/sealog/sealog/internal/sqlschema"

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
