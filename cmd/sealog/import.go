package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/compat"
	"github.com/sealog/sealog/layout"
)

var importCmd = &command{
	name:    "import",
	summary: "verify another tool's log and import it into a sealog log",
	usage: `Usage: sealog import --format F SRC DEST --key FILE [--force] [--trust FILE] [--keys FILE] [--anchor FILE] [--secret S]... [--json] [-v]

Verifies the Spine, spanforge or immutable-logging log SRC (as 'sealog
verify --format F' does, with the same trust flags), then appends one
sealog event per legacy record, in file order, to the sealog log DEST
(created with --key if it does not exist). From then on the records are
anchored by DEST's signed checkpoints.

Each event keeps the record: its kind, actor and resource where the format
has them (else kind "import.F"), and a payload holding the format, the
source file, the record's index and line, its original hash and time, its
event id, whether it verified (and why not), and the record's exact bytes
("record", or "record_base64" when they are not UTF-8).

A source that does not verify is refused (exit 1), unless --force: then an
event of kind "import.verification_failed" holding the verification report
is appended first, and every record is imported and marked.

Flags:
    --format F        spine, spanforge or immutable-logging (default: detect)
    --key FILE        DEST's private signer key (default: $SEALOG_KEY)
    --force           import a source that does not verify
    --trust FILE, --keys FILE, --anchor FILE, --secret S
                      as for 'sealog verify'
    --spine-key KEYID=HEX
                      a trusted Spine key ('sealog verify --key' for Spine)
    --json            print the summary as JSON
    -v                report what the library does (on stderr)
`,
}

func init() { importCmd.run = runImport }

func runImport(e *env, args []string) error {
	c := importCmd
	fl := newFlags(c)
	var f verifyFlags
	fl.Var(&f.keys, "spine-key", "")
	fl.Var(&f.secrets, "secret", "")
	fl.StringVar(&f.keysFile, "keys", "", "")
	fl.StringVar(&f.trust, "trust", "", "")
	fl.StringVar(&f.anchor, "anchor", "", "")
	fl.StringVar(&f.format, "format", "", "")
	keyFile := fl.String("key", "", "")
	force := fl.Bool("force", false, "")
	asJSON := fl.Bool("json", false, "")
	verbose := fl.Bool("v", false, "")
	pos, err := parseArgs(e, c, fl, args)
	if err != nil {
		return err
	}
	if err := wantArgs(c, pos, 2, 2, "SRC and DEST"); err != nil {
		return err
	}
	src, dest := pos[0], pos[1]
	var lf compat.Format
	if f.format != "" {
		if lf, err = compat.ParseFormat(f.format); err != nil {
			return usageError("import: --format %q: %v", f.format, err)
		}
	} else if lf, err = compat.Detect(src); err != nil {
		return ioError("%s: cannot tell its format: %v", src, err).withHint("give --format spine, spanforge or immutable-logging")
	}
	opts, err := legacyOptions(e, &f, lf, src)
	if err != nil {
		return err
	}
	key, err := loadSigner(e, c, *keyFile)
	if err != nil {
		return err
	}
	rep, err := compat.Verify(e.ctx, lf, src, opts)
	if err != nil {
		return ioError("%s: %v", src, err)
	}
	if !rep.Valid && !*force {
		bw := bufio.NewWriter(e.stderr)
		writeLegacyText(bw, rep, src, string(lf))
		bw.Flush()
		return failError("refusing to import %s: it does not verify (first invalid record %d: %s)", src, derefInt(rep.FirstInvalid), rep.Reason).
			withHint("--force imports it anyway, recording the failed verification first")
	}
	var l *sealog.Log
	if _, err := layout.ReadMetadata(dest); errors.Is(err, layout.ErrNotLog) || errors.Is(err, fs.ErrNotExist) {
		l, err = sealog.Open(dest, sealog.Options{Key: key, Logger: newLogger(e, *verbose)})
		if err != nil {
			return openError(dest, err)
		}
	} else if l, err = openWriter(e, dest, key, sealog.Options{Logger: newLogger(e, *verbose)}); err != nil {
		return err
	}
	sum, err := importRecords(e.ctx, l, lf, src, opts, rep)
	if cerr := l.Close(); err == nil && cerr != nil {
		err = ioError("%v", cerr)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, sum)
	}
	fmt.Fprintf(e.stdout, "imported %d records from %s (%s, %s) into %s: seq %d–%d\n", sum.Records, src, lf, map[bool]string{true: "verified", false: "NOT verified, imported with --force"}[sum.SourceValid], dest, sum.FirstSeq, sum.LastSeq)
	if sum.Unverified > 0 {
		fmt.Fprintf(e.stdout, "%d records did not verify and are marked \"verified\": false\n", sum.Unverified)
	}
	fmt.Fprintf(e.stdout, "checkpoint (save it elsewhere):\n%s", sum.Checkpoint)
	return nil
}

// importSummary is what import prints.
type importSummary struct {
	Format      compat.Format `json:"format"`
	Source      string        `json:"source"`
	SourceValid bool          `json:"source_valid"`
	Records     int           `json:"records"`
	Unverified  int           `json:"unverified"`
	FirstSeq    uint64        `json:"first_seq"`
	LastSeq     uint64        `json:"last_seq"`
	Checkpoint  string        `json:"checkpoint"`
}

// importedRecord is the payload of an imported event.
type importedRecord struct {
	Format       compat.Format `json:"format"`
	File         string        `json:"file"`
	Index        int           `json:"index"`
	Line         int           `json:"line"`
	OriginalHash string        `json:"original_hash,omitempty"`
	PrevHash     string        `json:"prev_hash,omitempty"`
	EventID      string        `json:"event_id,omitempty"`
	OriginalTime string        `json:"original_time,omitempty"`
	Verified     bool          `json:"verified"`
	Problem      string        `json:"problem,omitempty"`
	Tombstone    bool          `json:"tombstone,omitempty"`
	Record       *string       `json:"record,omitempty"`
	RecordBase64 string        `json:"record_base64,omitempty"`
}

func importRecords(ctx context.Context, l *sealog.Log, lf compat.Format, src string, opts compat.Options, rep *compat.Report) (*importSummary, error) {
	sum := &importSummary{Format: lf, Source: src, SourceValid: rep.Valid}
	var batch []sealog.Event
	first := true
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		rs, err := l.AppendBatch(ctx, batch)
		if err != nil {
			return ioError("importing: %s", trimSealog(err)).withHint("%d records were imported before this batch", sum.Records)
		}
		if first {
			sum.FirstSeq, first = rs[0].Seq, false
		}
		sum.LastSeq, sum.Checkpoint = rs[len(rs)-1].Seq, rs[len(rs)-1].Checkpoint
		batch = batch[:0]
		return nil
	}
	if !rep.Valid {
		b, _ := json.Marshal(map[string]any{"format": lf, "source": src, "report": rep})
		batch = append(batch, sealog.Event{Kind: "import.verification_failed", Resource: src, Payload: json.RawMessage(b)})
	}
	err := compat.Walk(ctx, lf, src, opts, func(r compat.Record) error {
		p := importedRecord{Format: lf, File: r.File, Index: r.Index, Line: r.Line, OriginalHash: r.Hash, PrevHash: r.PrevHash,
			EventID: r.EventID, Verified: r.Verified, Problem: r.Problem, Tombstone: r.Tombstone}
		if !r.Time.IsZero() {
			p.OriginalTime = r.Time.UTC().Format(time.RFC3339Nano)
		}
		if utf8.Valid(r.Raw) {
			s := string(r.Raw)
			p.Record = &s
		} else {
			p.RecordBase64 = base64.StdEncoding.EncodeToString(r.Raw)
		}
		b, err := json.Marshal(p)
		if err != nil {
			return err
		}
		kind := strings.ToValidUTF8(r.Kind, "\uFFFD")
		if kind == "" {
			kind = "import." + string(lf)
		}
		batch = append(batch, sealog.Event{Kind: kind, Actor: strings.ToValidUTF8(r.Actor, "\uFFFD"), Resource: strings.ToValidUTF8(r.Resource, "\uFFFD"), Payload: json.RawMessage(b)})
		sum.Records++
		if !r.Verified {
			sum.Unverified++
		}
		if len(batch) >= 1000 {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	var ce *cliError
	if err != nil && !errors.As(err, &ce) {
		err = ioError("reading %s: %v", src, err)
	}
	return sum, err
}

func derefInt(p *int) int {
	if p == nil {
		return -1
	}
	return *p
}
