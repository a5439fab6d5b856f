package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/bundle"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/verify"
)

var demoCmd = &command{
	name:    "demo",
	summary: "a tour: record, verify, tamper, detect, export evidence",
	usage: `Usage: sealog demo [--dir D]

A tour for a new user, in a few seconds. It makes a key and a log (in a
new temporary directory, or in D, which must be empty or missing), records
a few hundred realistic audit events, saves a checkpoint as an auditor
would, verifies the log, makes a tampered copy (one event's payload
changed, another event's line deleted) and verifies it, then exports an
evidence bundle of two events and verifies that. It ends with where it
left its files and the commands to try next.

Flags:
    --dir D   where to put the demo's files
`,
}

func init() { demoCmd.run = runDemo }

func runDemo(e *env, args []string) error {
	c := demoCmd
	fl := newFlags(c)
	dirFlag := fl.String("dir", "", "")
	pos, err := parseArgs(e, c, fl, args)
	if err != nil {
		return err
	}
	if err := wantArgs(c, pos, 0, 0, ""); err != nil {
		return err
	}
	dir := *dirFlag
	if dir == "" {
		if dir, err = os.MkdirTemp("", "sealog-demo-"); err != nil {
			return ioError("%v", err)
		}
	} else if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return ioError("%s is not empty", dir).withHint("give a new or empty directory, or leave out --dir")
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return ioError("%s: %v", dir, pathErr(err))
	}
	w := e.stdout
	step := func(n int, format string, args ...any) {
		fmt.Fprintf(w, "\n== %d. %s\n\n", n, fmt.Sprintf(format, args...))
	}
	keyFile := filepath.Join(dir, "demo.key")
	logDir := filepath.Join(dir, "audit-log")
	auditorDir := filepath.Join(dir, "auditor")

	step(1, "Make a signing key (sealog keygen)")
	vkey, err := sealog.WriteKeyFiles(keyFile, "demo.sealog.example/audit")
	if err != nil {
		return ioError("%v", err)
	}
	key, err := sealog.LoadKey(keyFile)
	if err != nil {
		return ioError("%v", err)
	}
	fmt.Fprintf(w, "private key: %s (mode 0600, stays with the application)\nverifier key: %s.pub, given to the auditor:\n  %s\n", keyFile, keyFile, vkey)

	step(2, "Record audit events (sealog init, sealog append)")
	l, err := sealog.Open(logDir, sealog.Options{Key: key})
	if err != nil {
		return ioError("%v", err)
	}
	evs := demoEvents(300)
	marks, err := demoAppend(e.ctx, l, evs[:240])
	if err != nil {
		l.Close()
		return err
	}
	fmt.Fprintf(w, "recorded %d events in %s, in %d signed batches, e.g.:\n", 240, logDir, marks)
	for _, seq := range []uint64{0, 1, 2} {
		en, _ := l.Entry(e.ctx, seq)
		writeEntryRow(w, &en)
	}

	step(3, "The auditor saves a checkpoint elsewhere (sealog checkpoint)")
	ck, err := l.Checkpoint(e.ctx)
	if err != nil {
		l.Close()
		return ioError("%v", err)
	}
	if err := os.MkdirAll(auditorDir, 0o755); err != nil {
		l.Close()
		return ioError("%v", err)
	}
	ckFile := filepath.Join(auditorDir, "audit-log.ckpt")
	if err := os.WriteFile(ckFile, ck.Note, 0o644); err != nil {
		l.Close()
		return ioError("%v", err)
	}
	fmt.Fprintf(w, "saved %s (covers %d entries):\n%s", ckFile, ck.Size, indent(ck.Note))
	if _, err := demoAppend(e.ctx, l, evs[240:]); err != nil {
		l.Close()
		return err
	}
	h, err := l.Head(e.ctx)
	if err != nil {
		l.Close()
		return ioError("%v", err)
	}
	fmt.Fprintf(w, "the application went on: the log now has %d entries\n", h.Size)
	if err := l.Close(); err != nil {
		return ioError("%v", err)
	}

	step(4, "Verify the log with the auditor's key and checkpoint (sealog verify)")
	opts := verify.Options{Key: vkey, Checkpoints: [][]byte{ck.Note}}
	rep, err := verify.Verify(e.ctx, verify.Dir(logDir), opts)
	if err != nil {
		return ioError("%v", err)
	}
	rep.WriteText(w, verify.TextOptions{Name: logDir})
	if !rep.Valid {
		return failError("the demo log does not verify")
	}

	tampered := filepath.Join(dir, "audit-log-tampered")
	changed, deleted, err := demoTamper(logDir, tampered)
	if err != nil {
		return err
	}
	step(5, "Someone edits the log: entry %d's payload changed, entry %d deleted", changed, deleted)
	fmt.Fprintf(w, "in %s, a copy of the log:\n  entry %d: %s\n  entry %d: its line deleted\n", tampered, changed, demoChange, deleted)
	rep, err = verify.Verify(e.ctx, verify.Dir(tampered), opts)
	if err != nil {
		return ioError("%v", err)
	}
	fmt.Fprintln(w)
	rep.WriteText(w, verify.TextOptions{Name: tampered})
	if rep.Valid {
		return failError("the tampered copy verified: this is a bug")
	}

	step(6, "Export evidence for two events and check it offline (sealog export, sealog verify-bundle)")
	bundleFile := filepath.Join(dir, "evidence.bundle")
	if err := demoBundle(e.ctx, logDir, bundleFile, []uint64{7, 42}); err != nil {
		return err
	}
	data, err := os.ReadFile(bundleFile)
	if err != nil {
		return ioError("%v", err)
	}
	res, err := bundle.Verify(data, vkey)
	if err != nil || !res.Valid {
		return failError("the demo bundle does not verify: %v", err)
	}
	writeBundleText(w, res, bundleFile, "evidence bundle")

	fmt.Fprintf(w, "\n== Done. The demo's files are in %s:\n", dir)
	fmt.Fprintf(w, "  %-28s the private and verifier keys\n", "demo.key, demo.key.pub")
	fmt.Fprintf(w, "  %-28s the log\n", "audit-log/")
	fmt.Fprintf(w, "  %-28s the tampered copy\n", "audit-log-tampered/")
	fmt.Fprintf(w, "  %-28s the auditor's saved checkpoint\n", "auditor/audit-log.ckpt")
	fmt.Fprintf(w, "  %-28s the evidence bundle\n", "evidence.bundle")
	fmt.Fprintf(w, "\nTry:\n")
	if _, err := exec.LookPath("sealog"); err != nil {
		fmt.Fprintf(w, "  (sealog is not on your PATH: 'go install ./cmd/sealog' in the repository, or\n")
		fmt.Fprintf(w, "  'go install github.com/sealog/sealog/cmd/sealog@latest', installs it in\n")
		fmt.Fprintf(w, "  $(go env GOPATH)/bin; then: export PATH=\"$PATH:$(go env GOPATH)/bin\")\n")
	}
	q := func(s string) string { return shellQuote(s) }
	fmt.Fprintf(w, "  sealog verify %s --key %s.pub --checkpoint %s\n", q(logDir), q(keyFile), q(ckFile))
	fmt.Fprintf(w, "  sealog verify %s --key %s.pub --checkpoint %s\n", q(tampered), q(keyFile), q(ckFile))
	fmt.Fprintf(w, "  sealog query %s --kind 'role.*'\n", q(logDir))
	fmt.Fprintf(w, "  sealog show %s 42 --proof\n", q(logDir))
	fmt.Fprintf(w, "  sealog verify-bundle %s --key %s.pub\n", q(bundleFile), q(keyFile))
	fmt.Fprintf(w, "\nThe compliance workflow for your own log (docs/CLI.md):\n")
	fmt.Fprintf(w, "  sealog keygen -o audit.key --name example.com/audit   # once; give audit.key.pub to auditors\n")
	fmt.Fprintf(w, "  sealog init audit-log --key audit.key\n")
	fmt.Fprintf(w, "  your-app | sealog append audit-log --key audit.key > receipts.jsonl\n")
	fmt.Fprintf(w, "  sealog checkpoint audit-log > /elsewhere/audit-log.ckpt   # regularly, somewhere the operator cannot write\n")
	fmt.Fprintf(w, "  sealog verify audit-log --key audit.key.pub --checkpoint /elsewhere/audit-log.ckpt\n")
	fmt.Fprintf(w, "  sealog export audit-log --seq 5,17,40-45 -o evidence.bundle\n")
	fmt.Fprintf(w, "  sealog verify-bundle evidence.bundle --key audit.key.pub\n")
	return nil
}

// demoAppend appends evs in batches of varied sizes, as concurrent
// requests of an application would be grouped, and returns the number of
// batches.
func demoAppend(ctx context.Context, l *sealog.Log, evs []sealog.Event) (int, error) {
	batches := 0
	for i := 0; i < len(evs); {
		n := min(1+(i*7)%13, len(evs)-i)
		if _, err := l.AppendBatch(ctx, evs[i:i+n]); err != nil {
			return batches, ioError("appending: %v", err)
		}
		i += n
		batches++
	}
	return batches, nil
}

// demoChange says what demoTamper does to the changed entry.
const demoChange = `payload "rows":1200 changed to "rows":12`

// demoTamper copies the log in src to dst, then changes the payload of
// the first data export from seq 40 on and deletes the line of entry
// 120. It returns the two seqs.
func demoTamper(src, dst string) (changed, deleted uint64, err error) {
	if err := copyDir(src, dst); err != nil {
		return 0, 0, ioError("copying the log: %v", err)
	}
	segs, _, err := layout.Segments(dst)
	if err != nil || len(segs) != 1 || segs[0].Compressed {
		return 0, 0, ioError("the demo log should have one plain segment: %v", err)
	}
	b, err := os.ReadFile(segs[0].Path)
	if err != nil {
		return 0, 0, ioError("%v", err)
	}
	lines := bytes.SplitAfter(b, []byte("\n"))
	changed = 1 << 63
	for i := 40; i < len(lines); i++ {
		if bytes.Contains(lines[i], []byte(`"rows":1200`)) {
			lines[i] = bytes.Replace(lines[i], []byte(`"rows":1200`), []byte(`"rows":12`), 1)
			changed = uint64(i)
			break
		}
	}
	deleted = 120
	lines = append(lines[:deleted:deleted], lines[deleted+1:]...)
	if err := os.WriteFile(segs[0].Path, bytes.Join(lines, nil), 0o644); err != nil {
		return 0, 0, ioError("%v", err)
	}
	return changed, deleted, nil
}

// demoBundle exports seqs of the log in dir to file.
func demoBundle(ctx context.Context, dir, file string, seqs []uint64) error {
	l, err := sealog.Open(dir, sealog.Options{ReadOnly: true})
	if err != nil {
		return ioError("%v", err)
	}
	defer l.Close()
	b, err := bundle.Build(ctx, l, seqs, bundle.Options{})
	if err != nil {
		return ioError("%v", err)
	}
	if err := bundle.WriteFile(file, b.Marshal(), false); err != nil {
		return ioError("%v", err)
	}
	return nil
}
