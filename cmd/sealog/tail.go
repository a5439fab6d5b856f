package main

import (
	"bufio"
	"errors"
	"io/fs"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/store/file"
)

var errorsIs = errors.Is

var tailCmd = &command{
	name:    "tail",
	summary: "show the last entries, and follow new ones",
	usage: `Usage: sealog tail DIR [-n N] [-f] [--json]

Shows the last N entries of the log in DIR (default 10). With -f, keeps
printing new entries as the writer commits them (checking about every
200 ms) until interrupted; Ctrl-C ends it with exit 0.

Flags:
    -n N     how many entries to show first (default 10)
    -f       follow: print entries as they are committed
    --json   one JSON object per line (as 'show --json')
`,
}

func init() { tailCmd.run = runTail }

func runTail(e *env, args []string) error {
	c := tailCmd
	fl := newFlags(c)
	n := fl.Uint64("n", 10, "")
	follow := fl.Bool("f", false, "")
	fl.BoolVar(follow, "follow", false, "")
	asJSON := fl.Bool("json", false, "")
	pos, err := parseArgs(e, c, fl, args)
	if err != nil {
		return err
	}
	if err := wantArgs(c, pos, 1, 1, "DIR (the log)"); err != nil {
		return err
	}
	dir := pos[0]
	l, err := openReader(dir) // the library waits out a writer that is recovering
	if err != nil {
		return err
	}
	defer l.Close()
	out := bufio.NewWriter(e.stdout)
	print := func(from, to uint64) error {
		for en, err := range l.Entries(e.ctx, from, to) {
			if err != nil {
				out.Flush()
				if e.ctx.Err() != nil {
					return nil
				}
				return entriesError(dir, err)
			}
			if *asJSON {
				writeEntryLine(out, &en)
			} else {
				writeEntryRow(out, &en)
			}
		}
		return out.Flush()
	}
	size, err := logSize(e.ctx, l, dir)
	if err != nil {
		return err
	}
	if err := print(size-min(*n, size), size); err != nil {
		return err
	}
	if !*follow {
		return nil
	}
	var failing time.Time // when Refresh started failing
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-e.ctx.Done():
			return nil
		case <-tick.C:
		}
		now, err := l.Head(e.ctx)
		if err != nil {
			if failing.IsZero() {
				failing = time.Now()
			}
			if !isTransient(err) || time.Since(failing) > 5*time.Second {
				return refreshError(dir, err)
			}
			continue
		}
		failing = time.Time{}
		if now.Size > size {
			if err := print(size, now.Size); err != nil {
				return err
			}
			size = now.Size
		}
	}
}

// isTransient reports whether err may come from a writer that is opening
// or committing at the same moment.
func isTransient(err error) bool {
	return errors.Is(err, file.ErrRecoveryNeeded) || errors.Is(err, fs.ErrNotExist)
}

func refreshError(dir string, err error) error {
	if errors.Is(err, sealog.ErrCorrupt) {
		return failError("%s", trimSealog(err)).withHint("run 'sealog verify %s'", dir)
	}
	return ioError("%s", trimSealog(err))
}
