package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/sealog/sealog"
)

var pruneCmd = &command{
	name:    "prune",
	summary: "delete old entries' contents, keeping what verification needs",
	usage: `Usage: sealog prune LOG --key FILE (--below SEQ | --before TIME) [--json] [-v]

Deletes the oldest entries of the log LOG (a directory, postgres://… or
sqlite://…) for retention rules — a directory's segment files that hold
them, a database's rows — and keeps what later verification needs: a
prune record appended to the log first (an entry of kind sealog.prune,
signed with the rest), and in pruned.json (a database: its pruned table)
the chain link and the tree's hashes at the prune point, and the
rotation records pruned, so that the chain of keys still verifies. The entries that remain still verify with the
log's key, their inclusion proofs still work, and 'sealog verify' says
which entries were pruned, when, and by which record (docs/FORMAT.md §13).

A directory's entries go by whole sealed segments: the prune point is the
largest segment start at or below SEQ (or the first entry at or after
TIME), so some older entries may stay until the next prune; a database's
go by whole batches (the largest batch end at or below it). Nothing is
pruned twice.

Flags:
    --key FILE      the private signer key (default: $SEALOG_KEY)
    --below SEQ     delete entries below SEQ (as far as whole segments or
                    batches go)
    --before TIME   delete entries older than TIME (RFC 3339, e.g.
                    2026-01-01T00:00:00Z)
    --json          print the result as JSON: {"below","record_seq","checkpoint"}
    -v              report what the library does (on stderr)
`,
}

func init() { pruneCmd.run = runPrune }

func runPrune(e *env, args []string) error {
	c := pruneCmd
	fl := newFlags(c)
	keyFile := fl.String("key", "", "")
	below := fl.String("below", "", "")
	before := fl.String("before", "", "")
	asJSON := fl.Bool("json", false, "")
	verbose := fl.Bool("v", false, "")
	pos, err := parseArgs(e, c, fl, args)
	if err != nil {
		return err
	}
	if err := wantArgs(c, pos, 1, 1, "DIR (the log)"); err != nil {
		return err
	}
	if (*below == "") == (*before == "") {
		return usageError("prune: give exactly one of --below SEQ and --before TIME")
	}
	var seq uint64
	var t time.Time
	if *below != "" {
		if seq, err = strconv.ParseUint(*below, 10, 63); err != nil {
			return usageError("prune: --below %q: want an entry's seq", *below)
		}
	} else if t, err = time.Parse(time.RFC3339Nano, *before); err != nil {
		return usageError("prune: --before %q: want an RFC 3339 time such as 2026-01-01T00:00:00Z", *before)
	}
	dir := pos[0]
	if _, isDB, err := databaseLog(dir); err != nil {
		return err
	} else if !isDB {
		if _, err := requireLog(dir); err != nil {
			return err
		}
	}
	key, err := loadSigner(e, c, *keyFile)
	if err != nil {
		return err
	}
	l, err := openWriter(e, dir, key, sealog.Options{Logger: newLogger(e, *verbose)})
	if err != nil {
		return err
	}
	var res sealog.PruneResult
	if *below != "" {
		res, err = l.Prune(e.ctx, seq)
	} else {
		res, err = l.PruneBefore(e.ctx, t)
	}
	if cerr := l.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return ioError("prune: %v", err)
	}
	if *asJSON {
		return writeJSON(e.stdout, map[string]any{"below": res.Below, "record_seq": res.Record.Seq, "checkpoint": res.Record.Checkpoint})
	}
	if res.Record.Checkpoint == "" {
		fmt.Fprintf(e.stdout, "nothing more to prune: the log is pruned below entry %d already\n", res.Below)
		return nil
	}
	fmt.Fprintf(e.stdout, "pruned entries 0 to %d; the prune record is entry %d\n", res.Below-1, res.Record.Seq)
	return nil
}
