package main

import (
	"bufio"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/sealog/sealog"
)

var eraseCmd = &command{
	name:    "erase",
	summary: "erase the content of entries (GDPR), keeping the log verifiable",
	usage: `Usage: sealog erase DIR --key FILE (--seq LIST | --actor A) --reason TEXT --requested-by WHO [--dry-run] [--json] [-v]

Erases the content of entries of the log in DIR, for example to honour a
GDPR erasure request: each entry's kind, actor, resource, payload and
salt are removed; its seq, time and commitment stay, so the chain, the
tree and every signature still verify. For each entry the log first
records an erasure record (an entry of kind sealog.erase, actor WHO,
naming the entry, its body hash and TEXT), in the same commit: 'sealog
verify' accepts an erased entry only when such a signed record names it,
and lists each erased entry with the seq of its record.

--seq names entries (5,17,40-45); --actor erases every entry whose actor
is A (a data subject's entries). Every entry named is checked first: one
that is not in the log, already erased, or an erasure record (which can
never be erased) refuses the whole command, and nothing is erased.

Flags:
    --key FILE           the private signer key (default: $SEALOG_KEY)
    --seq LIST           the entries to erase (at most 100000)
    --actor A            erase every entry whose actor is exactly A
    --reason TEXT        why (recorded in each erasure record; required)
    --requested-by WHO   who asked for the erasure (the records' actor; required)
    --dry-run            list the entries that would be erased, erase nothing
    --json               print [{"seq","record","time"}] (record: the erasure
                         record's seq; absent with --dry-run)
    -v                   report what the library does (on stderr)
`,
}

func init() { eraseCmd.run = runErase }

// maxErase caps the entries one erase command takes.
const maxErase = 100000

func runErase(e *env, args []string) error {
	c := eraseCmd
	fl := newFlags(c)
	keyFile := fl.String("key", "", "")
	seqList := fl.String("seq", "", "")
	actor := fl.String("actor", "", "")
	reason := fl.String("reason", "", "")
	by := fl.String("requested-by", "", "")
	dry := fl.Bool("dry-run", false, "")
	asJSON := fl.Bool("json", false, "")
	verbose := fl.Bool("v", false, "")
	pos, err := parseArgs(e, c, fl, args)
	if err != nil {
		return err
	}
	if err := wantArgs(c, pos, 1, 1, "DIR (the log)"); err != nil {
		return err
	}
	switch {
	case (*seqList == "") == (*actor == ""):
		return usageError("erase: give exactly one of --seq LIST and --actor A").withHint("run 'sealog erase -h' for usage")
	case strings.TrimSpace(*reason) == "":
		return usageError("erase: missing --reason TEXT (why the entries are erased; it is recorded)")
	case strings.TrimSpace(*by) == "":
		return usageError("erase: missing --requested-by WHO (who asked for the erasure; it is recorded)")
	case !utf8.ValidString(*reason) || !utf8.ValidString(*by) || !utf8.ValidString(*actor):
		return usageError("erase: --reason, --requested-by and --actor must be valid UTF-8")
	}
	var seqs []uint64
	if *seqList != "" {
		if seqs, err = parseSeqList(*seqList, maxErase); err != nil {
			return usageError("erase: --seq %q: %v", *seqList, err).withHint("a list like 5,17,40-45")
		}
	}
	dir := pos[0]
	if _, err := requireLog(dir); err != nil {
		return err
	}
	var l *sealog.Log
	if *dry {
		l, err = openReader(dir)
	} else {
		var key *sealog.Key
		if key, err = loadSigner(e, c, *keyFile); err != nil {
			return err
		}
		l, err = openWriter(e, dir, key, sealog.Options{Logger: newLogger(e, *verbose)})
	}
	if err != nil {
		return err
	}
	defer l.Close()
	targets, err := eraseTargets(e, l, dir, seqs, *actor)
	if err != nil {
		return err
	}
	type erased struct {
		Seq    uint64  `json:"seq"`
		Record *uint64 `json:"record,omitempty"`
		Time   string  `json:"time"`
	}
	out := []erased{}
	for _, t := range targets {
		x := erased{Seq: t.Seq, Time: t.Time.Format("2006-01-02T15:04:05.000000000Z07:00")}
		if !*dry {
			r, err := l.EraseFor(e.ctx, t.Seq, *by, *reason)
			if err != nil {
				return ioError("erasing entry %d: %v", t.Seq, trimSealog(err)).
					withHint("%s", erasedSoFar(len(out)))
			}
			x.Record = &r.Seq
		}
		out = append(out, x)
	}
	if err := l.Close(); err != nil {
		return ioError("%v", err)
	}
	if *asJSON {
		return writeJSON(e.stdout, out)
	}
	bw := bufio.NewWriter(e.stdout)
	for _, x := range out {
		if x.Record == nil {
			fmt.Fprintf(bw, "would erase entry %d (%s)\n", x.Seq, x.Time)
		} else {
			fmt.Fprintf(bw, "erased entry %d (%s): erasure record at seq %d\n", x.Seq, x.Time, *x.Record)
		}
	}
	if len(out) == 0 {
		fmt.Fprintf(e.stderr, "sealog: no entry of actor %q to erase\n", *actor)
	}
	return bw.Flush()
}

// erasedSoFar says how many entries an interrupted erase erased.
func erasedSoFar(n int) string {
	if n == 0 {
		return "nothing was erased"
	}
	return fmt.Sprintf("the %d entr%s listed before were erased; the others were not", n, map[bool]string{true: "y", false: "ies"}[n == 1])
}

// eraseTargets checks and returns the entries to erase: those in seqs, or
// every live entry whose actor is actor. Any entry in seqs that cannot be
// erased is an error before anything is erased.
func eraseTargets(e *env, l *sealog.Log, dir string, seqs []uint64, actor string) ([]sealog.Entry, error) {
	size, err := logSize(e.ctx, l, dir)
	if err != nil {
		return nil, err
	}
	var out []sealog.Entry
	if actor != "" {
		for en, err := range l.Entries(e.ctx, 0, size) {
			if err != nil {
				return nil, openError(dir, err)
			}
			if !en.Erased && en.Actor == actor && en.Kind != sealog.EraseKind {
				out = append(out, en)
				if len(out) > maxErase {
					return nil, usageError("erase: actor %q has more than %d entries; erase them in parts with --seq", actor, maxErase)
				}
			}
		}
		return out, nil
	}
	for _, s := range seqs {
		if s >= size {
			return nil, usageError("erase: entry %d is not in the log (it has %d entries)", s, size).withHint("nothing was erased")
		}
		en, err := l.Entry(e.ctx, s)
		if err != nil {
			if errors.Is(err, sealog.ErrCorrupt) {
				return nil, openError(dir, err)
			}
			return nil, ioError("entry %d: %v", s, trimSealog(err))
		}
		switch {
		case en.Erased:
			return nil, usageError("erase: entry %d is already erased", s).withHint("nothing was erased")
		case en.Kind == sealog.EraseKind:
			return nil, usageError("erase: entry %d is an erasure record, and erasure records cannot be erased", s).withHint("nothing was erased")
		}
		out = append(out, en)
	}
	return out, nil
}
