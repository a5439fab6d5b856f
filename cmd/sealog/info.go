package main

import (
	"bufio"
	"fmt"
	"os"
	"time"

	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/store"
)

var infoCmd = &command{
	name:    "info",
	summary: "describe a log: origin, key, size, ranges, segments, bytes",
	usage: `Usage: sealog info LOG [--json]

Describes the log LOG (a directory, or a database URL): its origin and
verifier key, when it was created, its size, the seq and time range of
its entries, its segments (how many compressed; a database has none), its
bytes as stored and uncompressed, how many entries are erased, and its
newest checkpoint. It reads every entry line once, to count; it checks
nothing ('sealog verify' does). It works while a writer appends.

Flags:
    --json   print {"dir","origin","key","created","size","first_seq","last_seq",
             "first_time","last_time","segments","compressed_segments",
             "bytes_stored","bytes_uncompressed","erased","checkpoint"}
`,
}

func init() { infoCmd.run = runInfo }

// logInfo is what 'sealog info' prints.
type logInfo struct {
	Dir                string    `json:"dir"`
	Origin             string    `json:"origin"`
	Key                string    `json:"key"`
	Created            string    `json:"created"`
	Size               uint64    `json:"size"`
	FirstSeq           *uint64   `json:"first_seq"`
	LastSeq            *uint64   `json:"last_seq"`
	FirstTime          string    `json:"first_time"`
	LastTime           string    `json:"last_time"`
	Segments           int       `json:"segments"`
	CompressedSegments int       `json:"compressed_segments"`
	BytesStored        int64     `json:"bytes_stored"`
	BytesUncompressed  int64     `json:"bytes_uncompressed"`
	Erased             uint64    `json:"erased"`
	Checkpoint         *infoCkpt `json:"checkpoint"`
}

// infoCkpt is the newest checkpoint in an info report.
type infoCkpt struct {
	Size uint64 `json:"size"`
	Root string `json:"root"`
	Note string `json:"note"`
}

func runInfo(e *env, args []string) error {
	c := infoCmd
	fl := newFlags(c)
	asJSON := fl.Bool("json", false, "")
	pos, err := parseArgs(e, c, fl, args)
	if err != nil {
		return err
	}
	if err := wantArgs(c, pos, 1, 1, "DIR (the log)"); err != nil {
		return err
	}
	dir := pos[0]
	l, err := openReader(dir)
	if err != nil {
		return err
	}
	defer l.Close()
	meta, err := l.Store().Metadata(e.ctx)
	if err != nil {
		return openError(dir, err)
	}
	h, err := l.Store().Head(e.ctx)
	if err != nil {
		return openError(dir, err)
	}
	in := logInfo{Dir: dir, Origin: meta.Origin, Key: meta.Key, Created: meta.Created.UTC().Format(time.RFC3339), Size: h.Size}
	_, isDB, _ := databaseLog(dir)
	if !isDB {
		list, err := layout.List(logPath(dir))
		if err != nil {
			return ioError("%s: listing its segments: %v", dir, err)
		}
		for _, sg := range list.Segments {
			in.Segments++
			if sg.Compressed {
				in.CompressedSegments++
			}
			if fi, err := os.Lstat(sg.Path); err == nil {
				in.BytesStored += fi.Size()
			}
		}
	}
	first, lastTime := true, int64(0)
	err = l.Store().ReadLines(e.ctx, 0, h.Size, func(sl store.Line) error {
		in.BytesUncompressed += int64(len(sl.Bytes)) + 1
		ln, err := format.ParseLine(sl.Bytes)
		if err != nil {
			return fmt.Errorf("entry %d: %w", sl.Seq, err)
		}
		if ln.Erased {
			in.Erased++
		}
		if first {
			in.FirstTime, first = fmtTime(ln.Time), false
		}
		lastTime = ln.Time
		return nil
	})
	if err != nil {
		return failError("%s: %v", dir, err).withHint("run 'sealog verify %s' for a full report", dir)
	}
	if h.Size > 0 {
		a, b := uint64(0), h.Size-1
		in.FirstSeq, in.LastSeq = &a, &b
		in.LastTime = fmtTime(lastTime)
		if ck := noteCheckpoint(h.Checkpoint); ck != nil {
			in.Checkpoint = &infoCkpt{Size: ck.Size, Root: ck.Root.String(), Note: ck.Note}
		}
	}
	if *asJSON {
		return writeJSON(e.stdout, in)
	}
	bw := bufio.NewWriter(e.stdout)
	p := func(label, format string, args ...any) {
		fmt.Fprintf(bw, "%-12s %s\n", label, fmt.Sprintf(format, args...))
	}
	p("log:", "%s", dir)
	p("origin:", "%s", in.Origin)
	p("key:", "%s", in.Key)
	p("created:", "%s", in.Created)
	p("size:", "%d entr%s", in.Size, pluralY(in.Size))
	if h.Size > 0 {
		p("seq range:", "0 to %d", *in.LastSeq)
		p("time range:", "%s to %s", in.FirstTime, in.LastTime)
	}
	if isDB {
		p("segments:", "none (a database: its rows)")
		p("bytes:", "%s of entry lines", humanBytes(in.BytesUncompressed))
	} else {
		p("segments:", "%d (%d compressed)", in.Segments, in.CompressedSegments)
		p("bytes:", "%s stored, %s uncompressed", humanBytes(in.BytesStored), humanBytes(in.BytesUncompressed))
	}
	p("erased:", "%d entr%s", in.Erased, pluralY(in.Erased))
	if in.Checkpoint != nil {
		p("checkpoint:", "size %d, root %s", in.Checkpoint.Size, in.Checkpoint.Root)
	} else {
		p("checkpoint:", "none (the log is empty)")
	}
	return bw.Flush()
}

func pluralY(n uint64) string {
	if n == 1 {
		return "y"
	}
	return "ies"
}

// humanBytes formats a byte count for people.
func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
