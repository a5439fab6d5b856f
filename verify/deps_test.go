package verify_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestIndependent enforces that the verifier shares no code with what it
// verifies beyond the format definition: it must not import the writer
// (the root package), any store, or the durable-write code.
func TestIndependent(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/sealog/sealog/verify").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	allowed := map[string]bool{
		"github.com/sealog/sealog/verify":              true,
		"github.com/sealog/sealog/format":              true,
		"github.com/sealog/sealog/checkpoint":          true,
		"github.com/sealog/sealog/tree":                true,
		"github.com/sealog/sealog/layout":              true,
		"github.com/sealog/sealog/internal/strictjson": true, // the strict JSON reading of sealog.json
	}
	for _, p := range strings.Fields(string(out)) {
		if p == "crypto/x509" || strings.HasPrefix(p, "github.com/digitorus/") {
			t.Errorf("verify depends on %s: timestamps are checked through Options.Timestamps, so that the verifier links no X.509 or CMS code (its memory: TestVerifyMemoryFlat)", p)
		}
		if strings.HasPrefix(p, "github.com/sealog/sealog") && !allowed[p] {
			t.Errorf("verify depends on %s", p)
		}
	}
}
