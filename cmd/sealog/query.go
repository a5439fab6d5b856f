package main

import (
	"bufio"
	"math"
	"path"
	"strings"
	"time"

	"github.com/sealog/sealog"
)

var queryCmd = &command{
	name:    "query",
	summary: "list the entries that match filters",
	usage: `Usage: sealog query DIR [--kind K] [--actor A] [--resource R] [--since T] [--until T] [--limit N] [--scan] [--json]

Streams the entries of the log in DIR and prints those that match every
filter given, one a line: seq, time, kind, actor, resource, payload.

K, A and R match exactly, or as shell patterns ('user.*', 'doc/*').
T is RFC 3339 (2026-11-21T08:00:00Z), a date (2026-11-21, midnight UTC),
or a duration before now (24h, 90m, 7d). --since is inclusive, --until
exclusive. Erased entries match only time filters.

Over a database (PostgreSQL, SQLite) exact filters use its indexes, and
every entry they name is read, proven against the log's checkpoint and
checked against the filters (an index that disagrees with a line is an
error, exit 1). An index cannot show an entry whose columns were changed
to hide it: --scan reads every line instead, for the complete answer.

Flags:
    --kind K, --actor A, --resource R   filters
    --since T, --until T                time range
    --limit N                           stop after N matches (default: all)
    --scan                              read every line, not the indexes
    --json                              one JSON object per line (as 'show --json')
`,
}

func init() { queryCmd.run = runQuery }

func runQuery(e *env, args []string) error {
	c := queryCmd
	fl := newFlags(c)
	kind := fl.String("kind", "", "")
	actor := fl.String("actor", "", "")
	resource := fl.String("resource", "", "")
	since := fl.String("since", "", "")
	until := fl.String("until", "", "")
	limit := fl.Int("limit", 0, "")
	asJSON := fl.Bool("json", false, "")
	scan := fl.Bool("scan", false, "")
	pos, err := parseArgs(e, c, fl, args)
	if err != nil {
		return err
	}
	if err := wantArgs(c, pos, 1, 1, "DIR (the log)"); err != nil {
		return err
	}
	for _, p := range []struct{ flag, v string }{{"--kind", *kind}, {"--actor", *actor}, {"--resource", *resource}} {
		if _, err := path.Match(p.v, ""); err != nil {
			return usageError("query: %s %q: bad pattern", p.flag, p.v)
		}
	}
	now := time.Now()
	var from, to time.Time
	if *since != "" {
		if from, err = parseTime(*since, now); err != nil {
			return usageError("query: --since: %v", err)
		}
	}
	if *until != "" {
		if to, err = parseTime(*until, now); err != nil {
			return usageError("query: --until: %v", err)
		}
	}
	if *limit < 0 {
		return usageError("query: --limit %d: must be 0 (all) or more", *limit)
	}
	l, err := openReader(pos[0])
	if err != nil {
		return err
	}
	defer l.Close()
	match := func(pat, s string) bool {
		if pat == "" {
			return true
		}
		ok, _ := path.Match(pat, s)
		return ok || pat == s
	}
	out := bufio.NewWriterSize(e.stdout, 64<<10)
	defer out.Flush()
	n := 0
	first, err := l.FirstSeq(e.ctx) // a pruned log starts at its prune point
	if err != nil {
		return ioError("%s: %v", pos[0], err)
	}
	it := l.Entries(e.ctx, first, math.MaxUint64)
	if !*scan && !strings.ContainsAny(*kind+*actor+*resource, `*?[\`) {
		it = l.Query(e.ctx, sealog.Query{Kind: *kind, Actor: *actor, Resource: *resource, Since: from, Until: to})
	}
	for en, err := range it {
		if err != nil {
			out.Flush()
			if e.ctx.Err() != nil {
				return ioError("interrupted")
			}
			return entriesError(pos[0], err)
		}
		if !from.IsZero() && en.Time.Before(from) {
			continue
		}
		if !to.IsZero() && !en.Time.Before(to) {
			break // times never decrease
		}
		if (*kind != "" || *actor != "" || *resource != "") && en.Erased {
			continue
		}
		if !match(*kind, en.Kind) || !match(*actor, en.Actor) || !match(*resource, en.Resource) {
			continue
		}
		if *asJSON {
			writeEntryLine(out, &en)
		} else {
			writeEntryRow(out, &en)
		}
		if n++; *limit > 0 && n >= *limit {
			break
		}
	}
	return out.Flush()
}

// entriesError turns an error from Log.Entries into a CLI error.
func entriesError(dir string, err error) error {
	if errorsIsCorrupt(err) {
		return failError("%s", trimSealog(err)).withHint("the log was changed; run 'sealog verify %s' for a full report", dir)
	}
	return ioError("%s", trimSealog(err))
}

func errorsIsCorrupt(err error) bool {
	return err != nil && (errorsIs(err, sealog.ErrCorrupt) || errorsIs(err, sealog.ErrTruncated))
}
