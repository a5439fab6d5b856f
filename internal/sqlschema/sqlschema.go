// Package sqlschema holds what the SQL stores (store/postgres,
// store/sqlite) share of their schema's history: the embedded, numbered
// migrations and the rule for a database found at another version, so
// that both backends number, load and refuse schemas alike.
package sqlschema

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/sealog/sealog/store"
)

// Migration is one step of a schema's history: the SQL that takes the
// schema from the version before to Version.
type Migration struct {
	Version int
	Name    string // the file's name without .sql, NNNN_what
	SQL     string
}

// Load reads the migrations NNNN_name.sql of dir in fsys, in order. A
// schema's version is the number of the last file applied. Numbers
// increase; one may be missing (migrations written on two branches at
// once and merged). It panics on a file out of order or unreadable: the
// files are embedded in the binary, so that is a build defect.
func Load(fsys fs.FS, dir string) []Migration {
	names, err := fs.Glob(fsys, dir+"/*.sql")
	if err != nil {
		panic(err)
	}
	var ms []Migration
	for _, path := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(path, dir+"/"), ".sql")
		num, _, _ := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if err != nil || v < 1 || len(ms) > 0 && v <= ms[len(ms)-1].Version {
			panic(fmt.Sprintf("sqlschema: migration %s is not numbered after the one before", path))
		}
		b, err := fs.ReadFile(fsys, path)
		if err != nil {
			panic(err)
		}
		ms = append(ms, Migration{Version: v, Name: name, SQL: string(b)})
	}
	if len(ms) == 0 {
		panic("sqlschema: no migrations in " + dir)
	}
	return ms
}

// ErrNeedsMigration is what Check returns for an older schema that the
// caller asked to migrate.
var ErrNeedsMigration = errors.New("migration needed")

// Check returns nil if a schema found at version v may be used as it is
// by a sealog whose latest version is latest; ErrNeedsMigration if it is
// older and migrate (the caller may write, and asked to) would bring it
// up to date; otherwise a *store.SchemaError naming where, which wraps
// store.ErrSchema.
func Check(where string, v, latest int, migrate bool) error {
	switch {
	case v == latest:
		return nil
	case v < latest && migrate:
		return ErrNeedsMigration
	default:
		return &store.SchemaError{Where: where, Found: v, Known: latest}
	}
}
