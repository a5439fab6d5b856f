package integrations_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDocSnippets type-checks the Go snippets of docs/INTEGRATIONS.md,
// so that the two lines a reader copies compile against the current API.
func TestDocSnippets(t *testing.T) {
	b, err := os.ReadFile("../docs/INTEGRATIONS.md")
	if err != nil {
		t.Fatal(err)
	}
	snippets := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllSubmatch(b, -1)
	if len(snippets) < 4 {
		t.Fatalf("docs/INTEGRATIONS.md has %d Go snippets", len(snippets))
	}
	declared := regexp.MustCompile(`(?m)^\s*([\w, ]+?)\s*:=`)
	var src strings.Builder
	src.WriteString(`package main

import (
	"context"
	"log/slog"
	"net/http"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/integrations/sealgrpc"
	"github.com/sealog/sealog/integrations/sealhttp"
	"github.com/sealog/sealog/integrations/sealslog"
	"github.com/sealog/sealog/integrity"
)

var (
	_ = context.Background
	_ = slog.New
	_ = os.Stderr
	_ = prometheus.MustRegister
	_ = grpc.NewServer
	_ = sealgrpc.New
	_ = sealhttp.New
	_ = sealslog.New
	_ = integrity.Startup
)

func main() {}
`)
	for i, m := range snippets {
		fmt.Fprintf(&src, "\nfunc snippet%d(auditLog sealog.Appender, mux *http.ServeMux, addr string, currentUser func(*http.Request) string, userFromContext func(context.Context) string, dir string, key *sealog.Key, audit *sealhttp.Middleware) {\n{\n", i)
		src.Write(m[1])
		for _, d := range declared.FindAllSubmatch(m[1], -1) {
			for _, name := range strings.Split(string(d[1]), ",") {
				if name = strings.TrimSpace(name); name != "_" {
					fmt.Fprintf(&src, "\t_ = %s\n", name)
				}
			}
		}
		src.WriteString("}\n}\n")
	}
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	gomod := "module docsnippets\n\ngo 1.26\n\nrequire github.com/sealog/sealog v0.0.0\n\nreplace github.com/sealog/sealog => " + repo + "\n"
	sum, err := os.ReadFile("../go.sum")
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"main.go": []byte(src.String()), "go.mod": []byte(gomod), "go.sum": sum} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("go", "vet", "-mod=mod", ".")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("a Go snippet of docs/INTEGRATIONS.md does not compile:\n%s\n%s", out, src.String())
	}
}
