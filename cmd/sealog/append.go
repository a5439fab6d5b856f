package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/sealog/sealog"
)

var appendCmd = &command{
	name:    "append",
	summary: "record events (arguments or JSON lines on stdin)",
	usage: `Usage: sealog append DIR --key FILE [--max-event-size N] [--wait DURATION] [-v] [EVENT_JSON ...]

Records events in the log in DIR and prints one receipt per event, as a
JSON line: {"seq","time","leaf_hash","checkpoint"} (+ "line", the input
line number, when reading stdin). A receipt's checkpoint is signed: keep
receipts, and the log can never deny their events.

An event is a JSON object:
    {"kind":"user.login","actor":"alice","resource":"app/console","payload":{"ip":"203.0.113.9"}}
kind is required; actor, resource and payload (an object) are optional;
other members are an error.

With EVENT_JSON arguments, all of them are recorded in one batch, or none.
Without, events are read from stdin, one per line (blank lines skipped),
and committed in batches as they arrive. At the first bad line, the lines
before it are committed and reported, nothing of that line or after it is
written, and the command exits 3. Empty stdin appends nothing.

A log has one writer at a time: it holds the lock DIR/lock (an flock,
released by the kernel when the writer exits, even by a crash). A second
'sealog append' on the same log fails at once with exit 3, naming the
lock and the writer's pid; --wait waits for the lock instead.

Flags:
    --key FILE            the private signer key (default: $SEALOG_KEY), or
                          ssh-agent:FINGERPRINT for a key held in the ssh-agent
    --max-event-size N    the largest event line accepted (default 1MiB; at most 3MiB)
    --wait DURATION       wait up to DURATION (e.g. 30s) for another writer to finish
    -v                    report what the library does (on stderr)
`,
}

func init() { appendCmd.run = runAppend }

// maxStdinBatch caps the events committed in one batch from stdin.
const maxStdinBatch = 4096

func runAppend(e *env, args []string) error {
	c := appendCmd
	fl := newFlags(c)
	keyFile := fl.String("key", "", "")
	maxSize := fl.String("max-event-size", "1MiB", "")
	verbose := fl.Bool("v", false, "")
	wait := fl.Duration("wait", 0, "")
	pos, err := parseArgs(e, c, fl, args)
	if err != nil {
		return err
	}
	if err := wantArgs(c, pos, 1, -1, "DIR (the log)"); err != nil {
		return err
	}
	limit, err := parseSize(*maxSize)
	if err != nil || limit > 3<<20 {
		return usageError("append: --max-event-size %q: a size up to 3MiB, like 1MiB or 65536", *maxSize)
	}
	dir := pos[0]
	meta, err := requireLog(dir)
	if err != nil {
		return err
	}
	key, err := loadSignerFor(e, c, *keyFile, meta.Origin)
	if err != nil {
		return err
	}
	// Parse arguments before opening the log: a bad one appends nothing.
	var evs []sealog.Event
	var arena []byte
	for i, a := range pos[1:] {
		if len(a) > int(limit) {
			return ioError("argument %d: the event is %d bytes, over the %d-byte limit (--max-event-size)", i+1, len(a), limit)
		}
		ev, ar, err := parseEvent([]byte(a), arena)
		if err != nil {
			return ioError("argument %d: %v", i+1, err).withHint("nothing was appended")
		}
		arena = ar
		evs = append(evs, ev.event())
	}
	if *wait < 0 {
		return usageError("append: --wait %s: a duration from 0, like 30s", *wait)
	}
	l, err := openWriterWait(e, dir, key, sealog.Options{MaxEventSize: int(limit), Logger: newLogger(e, *verbose)}, *wait)
	if err != nil {
		return err
	}
	out := bufio.NewWriterSize(e.stdout, 256<<10)
	if len(evs) > 0 {
		rs, err := l.AppendBatch(e.ctx, evs)
		if err == nil {
			writeReceipts(out, rs, nil)
		}
		cerr := l.Close()
		if err != nil {
			return ioError("appending: %v", trimSealog(err)).withHint("nothing was appended")
		}
		if cerr != nil {
			return ioError("%v", cerr)
		}
		return out.Flush()
	}
	err = appendStdin(e, l, out, int(limit))
	if ferr := out.Flush(); err == nil && ferr != nil {
		err = ioError("writing receipts: %v", ferr)
	}
	if cerr := l.Close(); err == nil && cerr != nil {
		err = ioError("%v", cerr)
	}
	return err
}

func (ev inputEvent) event() sealog.Event {
	se := sealog.Event{Kind: ev.kind, Actor: ev.actor, Resource: ev.resource}
	if ev.payload != nil {
		se.Payload = json.RawMessage(ev.payload)
	}
	return se
}

// writeReceipts writes one JSON line per receipt; lines, if not nil, are
// the input line numbers.
func writeReceipts(w *bufio.Writer, rs []sealog.Receipt, lines []int) {
	var ck []byte
	var b []byte
	for i, r := range rs {
		if i == 0 || r.Checkpoint != rs[i-1].Checkpoint {
			ck, _ = json.Marshal(r.Checkpoint)
		}
		b = append(b[:0], `{"seq":`...)
		b = strconv.AppendUint(b, r.Seq, 10)
		b = append(b, `,"time":"`...)
		b = r.Time.AppendFormat(b, "2006-01-02T15:04:05.000000000Z07:00")
		b = append(b, `","leaf_hash":"`...)
		b = appendBase64(b, r.LeafHash[:])
		b = append(b, `","checkpoint":`...)
		b = append(b, ck...)
		if lines != nil {
			b = append(b, `,"line":`...)
			b = strconv.AppendInt(b, int64(lines[i]), 10)
		}
		b = append(b, "}\n"...)
		w.Write(b)
	}
}

// trimSealog drops the library's "sealog: " prefix from an error.
func trimSealog(err error) string {
	s := err.Error()
	if len(s) > 8 && s[:8] == "sealog: " {
		return s[8:]
	}
	return s
}

// lineRange describes input lines first..last for messages.
func lineRange(first, last int) string {
	if first == last {
		return fmt.Sprintf("line %d", first)
	}
	return fmt.Sprintf("lines %d–%d", first, last)
}
