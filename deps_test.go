package sealog_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestRootDeps enforces that the library a Go service imports links no
// SQL driver, no HTTP code and no metrics library: those belong to the
// backends, the server and the integrations that need them.
func TestRootDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/sealog/sealog").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	forbidden := []string{
		"database/sql", "net/http", "net/rpc", "google.golang.org/grpc",
		"github.com/jackc/", "modernc.org/sqlite", "github.com/mattn/go-sqlite3", "github.com/lib/pq",
		"github.com/prometheus/", "go.opentelemetry.io/",
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps listed only %d packages: %q", len(deps), deps)
	}
	for _, p := range deps {
		for _, f := range forbidden {
			if p == strings.TrimSuffix(f, "/") || strings.HasPrefix(p, f) {
				t.Errorf("the root package depends on %s", p)
			}
		}
	}
}
