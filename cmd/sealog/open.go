package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

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

// openWriter opens the existing log in dir for writing with key. It
// fails at once if another process has it open for writing.
func openWriter(e *env, dir string, key *sealog.Key, opts sealog.Options) (*sealog.Log, error) {
	return openWriterWait(e, dir, key, opts, 0)
}

// openWriterWait is openWriter waiting up to wait for another writer to
// let go of the log's lock (a database log has no such lock).
func openWriterWait(e *env, dir string, key *sealog.Key, opts sealog.Options, wait time.Duration) (*sealog.Log, error) {
	if opts.Logger == nil {
		opts.Logger = newLogger(e, false)
	}
	if loc, ok, err := databaseLog(dir); err != nil {
		return nil, err
	} else if ok {
		return openDatabase(e.ctx, loc, key, false, opts)
	}
	dir = logPath(dir)
	if _, err := requireLog(dir); err != nil {
		return nil, err
	}
	// sealog.Open checks the key: the one the log was created with, or the
	// newest of its chain after rotations (docs/KEYS.md).
	opts.Key, opts.File.NoCreate = key, true
	deadline := time.Now().Add(wait)
	for delay := 10 * time.Millisecond; ; delay = min(2*delay, 250*time.Millisecond) {
		l, err := sealog.Open(dir, opts)
		switch {
		case err == nil:
			return l, nil
		case keyError(err) != nil:
			return nil, keyError(err)
		case !errors.Is(err, sealog.ErrLocked) || !time.Now().Add(delay).Before(deadline):
			if errors.Is(err, sealog.ErrLocked) && wait > 0 {
				return nil, lockedError(dir, err, fmt.Sprintf(" (waited %s)", wait))
			}
			return nil, openError(dir, err)
		}
		select {
		case <-e.ctx.Done():
			return nil, ioError("interrupted while waiting for the lock on %s", filepath.Join(dir, layout.LockFile))
		case <-time.After(delay):
		}
	}
}

// lockedError says that another process holds the log's write lock.
func lockedError(dir string, err error, waited string) error {
	pid := ""
	if _, p, ok := strings.Cut(err.Error(), "(pid "); ok {
		pid = " (pid " + p
	} else if b, rerr := layout.ReadRegular(filepath.Join(dir, layout.LockFile), 32); rerr == nil {
		// The writer holding the lock wrote its pid in the file.
		if p := strings.TrimSpace(string(b)); p != "" && strings.Trim(p, "0123456789") == "" {
			pid = " (pid " + p + ")"
		}
	}
	return ioError("%s is open for writing by another process%s: it holds the lock %s%s", dir, pid, filepath.Join(dir, layout.LockFile), waited).
		withHint("a log has one writer at a time: wait for the other to finish (--wait 30s waits for it), or stop it; reading commands (show, query, tail, verify) work meanwhile")
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
		return lockedError(dir, err, "")
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
