package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeCommands runs the README's command walkthrough (the block
// under "## The command") with the built binary, so that what a new user
// copies works.
func TestReadmeCommands(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)## The command\n\n```\n(.*?)```").FindSubmatch(b)
	if m == nil {
		t.Fatal(`README.md has no code block under "## The command"`)
	}
	if _, err := exec.LookPath("bash"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("bash is needed to run the README's commands")
		}
		t.Skip("no bash")
	}
	// Install it as the README says, into a directory of the test's own.
	if !strings.Contains(string(b), "go install ./cmd/sealog") || !strings.Contains(string(b), `export PATH="$PATH:$(go env GOPATH)/bin"`) {
		t.Fatal("the README does not say how to put sealog on PATH")
	}
	bin := t.TempDir()
	install := exec.Command("go", "install", "./cmd/sealog")
	install.Dir = filepath.Join("..", "..")
	install.Env = append(os.Environ(), "GOBIN="+bin)
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("go install ./cmd/sealog: %v\n%s", err, out)
	}
	work := t.TempDir()
	cmd := exec.Command("bash", "-e", "-c", string(m[1]))
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README's commands failed: %v\n%s", err, out)
	}
	for _, want := range []string{"status:         VALID", "truncation:     ruled out", "status:      VALID"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the README's commands did not print %q:\n%s", want, out)
		}
	}

	// The demo's "Try:" lines work with the installed command.
	path := "PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH")
	demo := exec.Command(filepath.Join(bin, "sealog"), "demo", "--dir", filepath.Join(work, "demo"))
	demo.Env = append(os.Environ(), path)
	out, err = demo.CombinedOutput()
	if err != nil {
		t.Fatalf("sealog demo: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "not on your PATH") {
		t.Errorf("the demo says sealog is not on PATH, though it is:\n%s", out)
	}
	_, try, ok := strings.Cut(string(out), "\nTry:\n")
	if !ok {
		t.Fatalf("the demo prints no Try: lines:\n%s", out)
	}
	try, _, _ = strings.Cut(try, "\n\n")
	for _, line := range strings.Split(strings.TrimSpace(try), "\n") {
		cmd := exec.Command("bash", "-c", strings.TrimSpace(line))
		cmd.Dir = work
		cmd.Env = append(os.Environ(), path)
		res, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		// 1 is the tampered copy's verdict; 2, 3 or 127 would be a broken line.
		if code > 1 || err != nil && code == 0 {
			t.Errorf("the demo's line %q: %v\n%s", line, err, res)
		}
	}
}
