package sealog_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestReadmeSnippet builds the README's Go snippet as a program and runs
// it twice in one directory, so that the first code a new user copies
// compiles against the current API and still works the second time (the
// key is saved and reused, the log reopened and appended to).
func TestReadmeSnippet(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```go\n(.*?)```").FindSubmatch(b)
	if m == nil {
		t.Fatal("README.md has no Go snippet")
	}
	src := `package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/verify"
)

func run(ctx context.Context) error {
` + string(m[1]) + `
	if err != nil {
		return err
	}
	fmt.Println(r.Seq, rep.Valid, rep.Entries)
	return nil
}

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
`
	// A module of its own outside the source tree, using this checkout.
	repo, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	gomod := "module readmesnippet\n\ngo 1.26\n\nrequire github.com/sealog/sealog v0.0.0\n\nreplace github.com/sealog/sealog => " + repo + "\n"
	sum, err := os.ReadFile("go.sum")
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"main.go": []byte(src), "go.mod": []byte(gomod), "go.sum": sum} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for _, args := range [][]string{{"vet", "-mod=mod", "."}, {"build", "-mod=mod", "-o", "snippet", "."}} {
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: the README's Go snippet does not compile:\n%s\n%s", args[0], out, src)
		}
	}
	work := t.TempDir()
	for run, want := range []string{"0 true 1\n", "1 true 2\n"} {
		cmd := exec.CommandContext(ctx, filepath.Join(dir, "snippet"))
		cmd.Dir = work
		out, err := cmd.CombinedOutput()
		if err != nil || string(out) != want {
			t.Fatalf("run %d of the README's snippet: %v, printed %q, want %q", run+1, err, out, want)
		}
	}
	if fi, err := os.Stat(filepath.Join(work, "audit.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the snippet's key file: %v", err)
	}
	if !strings.Contains(string(b), "    go test -race ./...") {
		t.Fatal("the README does not show the test command")
	}
}
