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
	dir, err := os.MkdirTemp(".", "readme-snippet-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("go", "vet", "./"+filepath.Base(dir)).CombinedOutput()
	if err != nil {
		t.Fatalf("the README's Go snippet does not compile:\n%s\n%s", out, src)
	}
	if !strings.Contains(string(b), "    go test -race ./...") {
		t.Fatal("the README does not show the test command")
	}
}
