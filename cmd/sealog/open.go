package main

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"strings"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/store/file"
)

// requireLog checks that dir holds a sealog log and returns its metadata,
// or an error that says what dir is instead.
func requireLog(dir string) (layout.Metadata, error) {
	if _, ok, err := databaseLog(dir); err != nil || ok {
		return layout.Metadata{}, err // a database is checked when it is opened
	}
	dir = logPath(dir)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return layout.Metadata{}, ioError("%s does not exist", dir).
			withHint("check the path, or create a log with 'sealog init %s --key FILE'", dir)
	case err != nil:
		return layout.Metadata{}, ioError("%s: %v", dir, pathErr(err))
	case !fi.IsDir():
		return layout.Metadata{}, ioError("%s is a file, not a log directory", dir).
			withHint("a sealog log is a directory holding sealog.json; for another tool's log use --format")
	}
	meta, err := layout.ReadMetadata(dir)
	switch {
	case errors.Is(err, layout.ErrNotLog) || errors.Is(err, fs.ErrNotExist):
		return meta, ioError("%s is not a sealog log (it has no %s)", dir, layout.MetadataFile).
			withHint("create one with 'sealog init %s --key FILE'", dir)
	case err != nil:
		return meta, ioError("%s: %v", dir, err)
	}
	return meta, nil
}

// openReader opens the log in dir read-only: it works while a writer is
// running, and sees what the log's checkpoint file covers.
func openReader(dir string) (*sealog.Log, error) {
	if loc, ok, err := databaseLog(dir); err != nil {
		return nil, err
	} else if ok {
		return openDatabase(context.Background(), loc, nil, false, sealog.Options{})
	}
	dir = logPath(dir)
	if _, err := requireLog(dir); err != nil {
		return nil, err
	}
	l, err := sealog.Open(dir, sealog.Options{ReadOnly: true})
	if err != nil {
		return nil, openError(dir, err)
	}
	return l, nil
}

// openWriter opens the existing log in dir for writing with key.
func openWriter(e *env, dir string, key *sealog.Key, opts sealog.Options) (*sealog.Log, error) {
	if opts.Logger == nil {
		opts.Logger = newLogger(e, false)
	}
	if loc, ok, err := databaseLog(dir); err != nil {
		return nil, err
	} else if ok {
		return openDatabase(e.ctx, loc, key, false, opts)
	}
	dir = logPath(dir)
	meta, err := requireLog(dir)
	if err != nil {
		return nil, err
	}
	if meta.Key != key.VerifierKey() {
		return nil, ioError("%s is signed by another key: the log's key is %s, the key given is %s", dir, meta.Key, key.VerifierKey()).
			withHint("use the signer key this log was created with")
	}
	opts.Key, opts.File.NoCreate = key, true
	l, err := sealog.Open(dir, opts)
	if err != nil {
		return nil, openError(dir, err)
	}
	return l, nil
}

// logSize returns the log's size as of now.
func logSize(ctx context.Context, l *sealog.Log, dir string) (uint64, error) {
	h, err := l.Head(ctx)
	if err != nil {
		return 0, openError(dir, err)
	}
	return h.Size, nil
}

// openError turns an error of sealog.Open into a CLI error.
func openError(dir string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "sealog: ")
	switch {
	case errors.Is(err, sealog.ErrCorrupt), errors.Is(err, sealog.ErrTruncated):
		return failError("%s", msg).withHint("run 'sealog verify %s' for a full report", dir)
	case errors.Is(err, sealog.ErrLocked):
		return ioError("%s", msg).withHint("stop the other writer first; reading commands (show, query, tail, verify) work meanwhile")
	case errors.Is(err, file.ErrRecoveryNeeded):
		return ioError("%s", msg).withHint("run 'sealog append %s --key FILE' with no input once to recover it, or 'sealog verify %s'", dir, dir)
	}
	return ioError("%s", msg)
}

// newLogger returns the logger for library reports: text on stderr, at
// Warn level, or Info when verbose.
func newLogger(e *env, verbose bool) *slog.Logger {
	lvl := slog.LevelWarn
	if verbose {
		lvl = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: lvl}))
}
