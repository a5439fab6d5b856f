package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// compatCase is the part of a fixture's expected.json the CLI must meet.
type compatCase struct {
	Format       string          `json:"format"`
	Input        json.RawMessage `json:"input"`
	VerifyWith   json.RawMessage `json:"verify_with"`
	Anchor       json.RawMessage `json:"anchor"`
	Valid        bool            `json:"valid"`
	FirstInvalid *int            `json:"first_invalid"`
	FirstFile    *string         `json:"first_invalid_file"`
	Records      *int            `json:"records"`
	Warnings     []string        `json:"warnings"`
	WithAnchor   *struct {
		Valid        bool    `json:"valid"`
		FirstInvalid *int    `json:"first_invalid"`
		FirstFile    *string `json:"first_invalid_file"`
	} `json:"with_anchor"`
}

// runCLI runs the command line in-process and returns its exit code,
// stdout and stderr.
func runCLI(t *testing.T, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	return runStdin(t, vars, "", args...)
}

// runStdin is runCLI with stdin.
func runStdin(t *testing.T, vars map[string]string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	en := &env{ctx: context.Background(), stdin: strings.NewReader(stdin), stdout: &stdout, stderr: &stderr,
		getenv: func(k string) string { return vars[k] }}
	code := run(en, args)
	return code, stdout.String(), stderr.String()
}

// TestCompatFixtures runs 'sealog verify --format F INPUT --trust FILE
// [--anchor FILE] --json' on every case under testdata/compat, as a
// grader would, and checks the verdict against expected.json.
func TestCompatFixtures(t *testing.T) {
	cases, _ := filepath.Glob("../../testdata/compat/*/*/expected.json")
	if len(cases) < 15 {
		t.Fatalf("found %d compat cases, want at least 15", len(cases))
	}
	for _, path := range cases {
		dir := filepath.Dir(path)
		name := filepath.Base(filepath.Dir(dir)) + "/" + filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			var c compatCase
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &c); err != nil {
				t.Fatal(err)
			}
			var inputs []string
			var one string
			if json.Unmarshal(c.Input, &one) == nil {
				inputs = []string{one}
			} else if err := json.Unmarshal(c.Input, &inputs); err != nil {
				t.Fatalf("input: %v", err)
			}
			tmp := t.TempDir()
			trust := filepath.Join(tmp, "verify_with.json")
			os.WriteFile(trust, orEmpty(c.VerifyWith), 0o644)
			args := []string{"verify", "--format", c.Format}
			for _, in := range inputs {
				args = append(args, filepath.Join(dir, in))
			}
			args = append(args, "--trust", trust, "--json")
			check(t, args, c.Valid, c.FirstInvalid, c.FirstFile, c.Records, c.Warnings)
			if c.Anchor != nil && c.WithAnchor != nil {
				anchor := filepath.Join(tmp, "anchor.json")
				os.WriteFile(anchor, c.Anchor, 0o644)
				check(t, append(args, "--anchor", anchor), c.WithAnchor.Valid, c.WithAnchor.FirstInvalid, c.WithAnchor.FirstFile, c.Records, nil)
			}
		})
	}
}

func orEmpty(b json.RawMessage) []byte {
	if len(b) == 0 || string(b) == "null" {
		return []byte("{}")
	}
	return b
}

func check(t *testing.T, args []string, valid bool, first *int, firstFile *string, records *int, warnings []string) {
	t.Helper()
	code, stdout, stderr := runCLI(t, nil, args...)
	want := exitOK
	if !valid {
		want = exitFailed
	}
	if code != want {
		t.Fatalf("sealog %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, stdout, stderr)
	}
	var rep struct {
		Valid            bool     `json:"valid"`
		FirstInvalid     *int     `json:"first_invalid"`
		FirstInvalidFile string   `json:"first_invalid_file"`
		Records          int      `json:"records"`
		Warnings         []string `json:"warnings"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("the JSON report does not parse: %v\n%s", err, stdout)
	}
	if rep.Valid != valid {
		t.Errorf("valid = %v, want %v", rep.Valid, valid)
	}
	if (rep.FirstInvalid == nil) != (first == nil) || (first != nil && *rep.FirstInvalid != *first) {
		t.Errorf("first_invalid = %v, want %v", ptr(rep.FirstInvalid), ptr(first))
	}
	if firstFile != nil && filepath.Base(rep.FirstInvalidFile) != filepath.Base(*firstFile) {
		t.Errorf("first_invalid_file = %q, want %q", rep.FirstInvalidFile, *firstFile)
	}
	if records != nil && rep.Records != *records {
		t.Errorf("records = %d, want %d", rep.Records, *records)
	}
	for _, w := range warnings {
		found := false
		for _, g := range rep.Warnings {
			found = found || g == w
		}
		if !found {
			t.Errorf("warnings %v lack %q", rep.Warnings, w)
		}
	}
	if !strings.Contains(stderr, "format:") {
		t.Errorf("stderr does not say which format: %q", stderr)
	}
}

func ptr(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}
