package main

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/layout"
)

// TestScriptVerify runs the scripts in testdata/verify: the verifier
// commands (verify, verify-bundle, verify-proof) on the real binary, on
// logs forged or damaged as issue 8 lists, each with a deadline so that a
// hang fails. They start with the test vector log ($WORK/vlog, key
// $WORK/vlog.pub) and have the commands of TestScript ("code", "replace",
// "delline") and these:
//
//	eraseline FILE N        put line N (from 1) of segment FILE in its erased form, with no erasure record
//	dropsig FILE N          remove the signature member of line N of FILE
//	forgetail FILE N        append N entries to segment FILE, chained to its last line, signed by no one
//	mkfifo PATH             make a FIFO
//	sparse PATH SIZE        make PATH a sparse file of SIZE bytes (k, M, G, T suffixes)
//	crlf FILE               turn the line ends of FILE into CRLF and drop the last one
func TestScriptVerify(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:      "testdata/verify",
		Deadline: time.Now().Add(5 * time.Minute),
		Setup: func(env *testscript.Env) error {
			if err := copyTree("../../testdata/vectors/log", filepath.Join(env.WorkDir, "vlog")); err != nil {
				return err
			}
			env.Setenv("SEALOG_KEY", "")
			return copyFile("../../testdata/vectors/log.pub", filepath.Join(env.WorkDir, "vlog.pub"))
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"code":      cmdCode,
			"replace":   cmdReplace,
			"delline":   cmdDelLine,
			"eraseline": cmdEraseLine,
			"dropsig":   cmdDropSig,
			"forgetail": cmdForgeTail,
			"mkfifo":    cmdMkfifo,
			"sparse":    cmdSparse,
			"crlf":      cmdCRLF,
		},
	})
}

// lineOf parses line n (from 1) of file.
func lineOf(ts *testscript.TestScript, file string, n int) ([][]byte, format.Line) {
	b, err := os.ReadFile(ts.MkAbs(file))
	ts.Check(err)
	lines := bytes.SplitAfter(b, []byte("\n"))
	if n < 1 || n > len(lines) {
		ts.Fatalf("%s has no line %d", file, n)
	}
	l, err := format.ParseLine(bytes.TrimSuffix(lines[n-1], []byte("\n")))
	ts.Check(err)
	return lines, l
}

func cmdEraseLine(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: eraseline FILE N")
	}
	n, _ := strconv.Atoi(args[1])
	lines, l := lineOf(ts, args[0], n)
	e := format.Line{Seq: l.Seq, Time: l.Time, Prev: l.Prev, Erased: true, BodyHash: l.ComputeBodyHash(), Sig: l.Sig}
	lines[n-1] = format.AppendLine(nil, &e)
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), bytes.Join(lines, nil), 0o644))
}

func cmdDropSig(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: dropsig FILE N")
	}
	n, _ := strconv.Atoi(args[1])
	lines, l := lineOf(ts, args[0], n)
	l.Sig = nil
	lines[n-1] = format.AppendLine(nil, &l)
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), bytes.Join(lines, nil), 0o644))
}

func cmdForgeTail(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: forgetail FILE N")
	}
	count, _ := strconv.Atoi(args[1])
	b, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	lines := bytes.SplitAfter(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
	_, last := lineOf(ts, args[0], len(lines))
	h := last.Header()
	prev, seq, tm := h.LeafHash(), last.Seq, last.Time
	for i := range count {
		seq, tm = seq+1, tm+1000
		ev, _ := format.AppendEvent(nil, "forged", "mallory", "", []byte(`{"n":`+strconv.Itoa(i)+`}`))
		l := format.Line{Seq: seq, Time: tm, Prev: prev, Event: ev}
		copy(l.Salt[:], "0123456789abcdef")
		hd := l.Header()
		prev = hd.LeafHash()
		b = format.AppendLine(b, &l)
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), b, 0o644))
}

func cmdMkfifo(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: mkfifo PATH")
	}
	p := ts.MkAbs(args[0])
	os.Remove(p)
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		ts.Fatalf("mkfifo: %v", err)
	}
}

func cmdSparse(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: sparse PATH SIZE")
	}
	s := args[1]
	mult := int64(1)
	if k := bytes.IndexByte([]byte("kMGT"), s[len(s)-1]); k >= 0 {
		mult, s = int64(1)<<(10*(k+1)), s[:len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	ts.Check(err)
	p := ts.MkAbs(args[0])
	if _, err := os.Stat(p); err != nil {
		ts.Check(os.WriteFile(p, nil, 0o644))
	}
	if err := os.Truncate(p, n*mult); err != nil {
		ts.Fatalf("sparse: %v", err)
	}
}

func cmdCRLF(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: crlf FILE")
	}
	p := ts.MkAbs(args[0])
	b, err := os.ReadFile(p)
	ts.Check(err)
	b = bytes.TrimSuffix(bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n")), []byte("\r\n"))
	ts.Check(os.WriteFile(p, b, 0o644))
}

var (
	_ = base64.StdEncoding
	_ = layout.SegmentsDir
)
