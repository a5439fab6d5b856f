package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/store"
	storeopen "github.com/sealog/sealog/store/open"
)

var initCmd = &command{
	name:    "init",
	summary: "create an empty log signed with a key",
	usage: `Usage: sealog init DIR --key FILE [--json] [-v]

Creates an empty log in DIR (made if missing), or in the database a URL
names (postgres://USER@HOST/DB?schema=S, sqlite:///PATH), to be signed
with the private key in FILE (or the file named by SEALOG_KEY). The log
stores only the public verifier key. Refuses a place that already holds
a log.

Flags:
    --key FILE   the private signer key, as made by 'sealog keygen'
    --json       print {"dir","origin","key"}
    -v           report what the library does (on stderr)
`,
}

func init() { initCmd.run = runInit }

func runInit(e *env, args []string) error {
	c := initCmd
	fl := newFlags(c)
	keyFile := fl.String("key", "", "")
	asJSON := fl.Bool("json", false, "")
	verbose := fl.Bool("v", false, "")
	pos, err := parseArgs(e, c, fl, args)
	if err != nil {
		return err
	}
	if err := wantArgs(c, pos, 1, 1, "DIR (the directory for the new log)"); err != nil {
		return err
	}
	dir := pos[0]
	key, err := loadSigner(e, c, *keyFile)
	if err != nil {
		return err
	}
	if loc, ok, err := databaseLog(dir); err != nil {
		return err
	} else if ok {
		return initDatabase(e, loc, key, *asJSON, *verbose)
	}
	dir = logPath(dir)
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return ioError("%s is a file, not a directory", dir)
	}
	meta, err := layout.ReadMetadata(dir)
	if err == nil {
		return ioError("%s is already a sealog log (origin %s)", dir, meta.Origin).
			withHint("append to it with 'sealog append %s --key FILE', or choose a new directory", dir)
	}
	if !errors.Is(err, layout.ErrNotLog) && !errors.Is(err, fs.ErrNotExist) {
		return ioError("%s: %v", dir, err)
	}
	l, err := sealog.Open(dir, sealog.Options{Key: key, Logger: newLogger(e, *verbose)})
	if err != nil {
		return openError(dir, err)
	}
	if err := l.Close(); err != nil {
		return ioError("%v", err)
	}
	if *asJSON {
		return writeJSON(e.stdout, map[string]string{"dir": dir, "origin": key.Origin(), "key": key.VerifierKey()})
	}
	fmt.Fprintf(e.stdout, "created an empty log in %s\n  origin:       %s\n  verifier key: %s\n", dir, key.Origin(), key.VerifierKey())
	return nil
}

// initDatabase creates an empty log in the database loc names.
func initDatabase(e *env, loc storeopen.Location, key *sealog.Key, asJSON, verbose bool) error {
	name := loc.String()
	ctx, cancel := context.WithTimeout(e.ctx, openTimeout)
	defer cancel()
	st, err := storeopen.OpenLocation(ctx, loc, storeopen.Options{NoCreate: true})
	switch {
	case err == nil:
		m, _ := st.Metadata(ctx)
		st.Close()
		return ioError("%s already holds a sealog log (origin %s)", name, m.Origin).
			withHint("append to it with 'sealog append %s --key FILE', or choose another database, schema or file", name)
	case !errors.Is(err, store.ErrNotLog):
		return databaseError(loc, err)
	}
	l, err := openDatabase(e.ctx, loc, key, true, sealog.Options{Logger: newLogger(e, verbose)})
	if err != nil {
		return err
	}
	if err := l.Close(); err != nil {
		return ioError("%v", err)
	}
	if asJSON {
		return writeJSON(e.stdout, map[string]string{"store": name, "origin": key.Origin(), "key": key.VerifierKey()})
	}
	fmt.Fprintf(e.stdout, "created an empty log in %s\n  origin:       %s\n  verifier key: %s\n", name, key.Origin(), key.VerifierKey())
	return nil
}
