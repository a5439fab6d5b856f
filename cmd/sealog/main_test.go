package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the test binary act as the sealog command inside
// testscript scripts.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"sealog": main})
}

// TestScript runs the scripts in testdata/script against the sealog
// binary. Each script starts with copies of the test vector log
// ($WORK/vlog, key $WORK/vlog.pub) and of the compat fixtures
// ($WORK/compat). The command "code N sealog ARGS..." runs sealog and
// checks that it exits with N; stdout and stderr are then checked as
// after exec.
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			if err := copyTree("../../testdata/vectors/log", filepath.Join(env.WorkDir, "vlog")); err != nil {
				return err
			}
			if err := copyFile("../../testdata/vectors/log.pub", filepath.Join(env.WorkDir, "vlog.pub")); err != nil {
				return err
			}
			env.Setenv("SEALOG_KEY", "")
			env.Setenv("SPANFORGE_HMAC_SECRET", "")
			return copyTree("../../testdata/compat", filepath.Join(env.WorkDir, "compat"))
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "root":
				return os.Geteuid() == 0, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"code":    cmdCode,
			"replace": cmdReplace,
			"delline": cmdDelLine,
		},
	})
}

// cmdCode is "code N PROGRAM ARGS...": run PROGRAM and check its exit code.
func cmdCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: code N program [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("code: %q is not an exit code", args[0])
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("code: %v", err)
	}
	if got != want {
		ts.Fatalf("%s exited with %d, want %d", args[1], got, want)
	}
}

// cmdReplace is "replace FILE OLD NEW": replace the first OLD in FILE by
// NEW (Go-quoted escapes such as \n are read in OLD and NEW).
func cmdReplace(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: replace FILE OLD NEW")
	}
	unq := func(s string) string {
		if u, err := strconv.Unquote(`"` + s + `"`); err == nil {
			return u
		}
		return s
	}
	path := ts.MkAbs(args[0])
	b, err := os.ReadFile(path)
	ts.Check(err)
	old := unq(args[1])
	if !bytes.Contains(b, []byte(old)) {
		ts.Fatalf("replace: %s does not contain %q", args[0], old)
	}
	ts.Check(os.WriteFile(path, bytes.Replace(b, []byte(old), []byte(unq(args[2])), 1), 0o644))
}

// cmdDelLine is "delline FILE N": delete line N (from 1) of FILE.
func cmdDelLine(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: delline FILE N")
	}
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	path := ts.MkAbs(args[0])
	b, err := os.ReadFile(path)
	ts.Check(err)
	lines := bytes.SplitAfter(b, []byte("\n"))
	if n < 1 || n > len(lines) {
		ts.Fatalf("delline: %s has no line %d", args[0], n)
	}
	lines = append(lines[:n-1], lines[n:]...)
	ts.Check(os.WriteFile(path, bytes.Join(lines, nil), 0o644))
}

func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		return copyFile(p, filepath.Join(dst, rel))
	})
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}
