package main

import (
	"os"
	"strings"
	"testing"
)

// TestDocs checks that docs/CLI.md repeats every command's usage text
// word for word, and that -h prints it.
func TestDocs(t *testing.T) {
	b, err := os.ReadFile("../../docs/CLI.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, c := range commands {
		if !strings.Contains(doc, "\n## "+c.name+"\n") {
			t.Errorf("docs/CLI.md has no section for %s", c.name)
		}
		if !strings.Contains(doc, "```\n"+c.usage+"```\n") {
			t.Errorf("docs/CLI.md does not repeat the usage of %s verbatim", c.name)
		}
		code, stdout, _ := runCLI(t, nil, c.name, "-h")
		if code != 0 || stdout != c.usage {
			t.Errorf("sealog %s -h: exit %d, printed %q", c.name, code, stdout)
		}
		if !strings.HasPrefix(c.usage, "Usage: sealog "+c.name) {
			t.Errorf("the usage of %s does not start with its synopsis", c.name)
		}
	}
}
