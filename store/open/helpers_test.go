package storeopen_test

import "github.com/sealog/sealog/store/sqlite"

// sqliteOptions are the SQLite knobs of the tests: small pages, so that
// Lines reads several.
func sqliteOptions() sqlite.Options { return sqlite.Options{PageSize: 16} }
