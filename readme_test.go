package sealog_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeSnippet type-checks the README's Go snippet, so that the first
// code a new user copies compiles against the current API.
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

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/verify"
)

func run(ctx context.Context) error {
` + string(m[1]) + `
	_, _ = r, rep
	return err
}

func main() { _ = run(context.Background()) }
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
	cmd := exec.Command("go", "vet", "-mod=mod", ".")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README's Go snippet does not compile:\n%s\n%s", out, src)
	}
	if !strings.Contains(string(b), "    go test -race ./...") {
		t.Fatal("the README does not show the test command")
	}
}
