package sqlite

// AddMigration makes this package stand for a later sealog whose schema
// has one more migration, sql, until restore is called.
func AddMigration(name, sql string) (restore func()) {
	old := migrations
	migrations = append(migrations[:len(old):len(old)], migration{version: old[len(old)-1].version + 1, name: name, sql: sql})
	return func() { migrations = old }
}

// AtVersion makes this package stand for an earlier sealog whose schema
// ends at version v, until restore is called.
func AtVersion(v int) (restore func()) {
	old := migrations
	migrations = old[:v:v]
	return func() { migrations = old }
}
