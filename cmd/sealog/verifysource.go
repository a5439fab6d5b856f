package main

import (
	"context"
	"os"

	storeopen "github.com/sealog/sealog/store/open"
	"github.com/sealog/sealog/verify"
)

// sealogSource returns what verify reads a sealog log from: the log
// directory dir, or the database it names, read as untrusted bytes (its
// stored rows, never its stored hashes). It returns the name for the
// report, the origin a trusted checkpoint must have (the name of key if
// given, else the log's own), and a function that closes what it opened.
func sealogSource(e *env, dir, key string) (src verify.Source, name, origin string, done func(), err error) {
	loc, isDB, err := databaseLog(dir)
	if err != nil {
		return nil, "", "", nil, err
	}
	if !isDB {
		dir = logPath(dir)
		if key == "" {
			// Without a key of its own the verifier has only the log's: a
			// log without metadata cannot be verified at all.
			if _, err := requireLog(dir); err != nil {
				return nil, "", "", nil, err
			}
		} else if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			if _, err := requireLog(dir); err != nil {
				return nil, "", "", nil, err
			}
		}
		return verify.Dir(dir), dir, logOrigin(dir, key), func() {}, nil
	}
	ctx, cancel := context.WithTimeout(e.ctx, openTimeout)
	defer cancel()
	st, err := storeopen.OpenLocation(ctx, loc, storeopen.Options{ReadOnly: true, NoCreate: true})
	if err != nil {
		return nil, "", "", nil, databaseError(loc, err)
	}
	name = loc.String()
	origin = logOrigin("", key)
	if origin == "" {
		if m, err := st.Metadata(ctx); err == nil {
			origin = m.Origin
		}
	}
	return storeopen.Source(e.ctx, st, "entries"), name, origin, func() { st.Close() }, nil
}
