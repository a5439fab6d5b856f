package bundle_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sealog/sealog/bundle"
)

// FuzzParse feeds untrusted bytes to the bundle and proof parsers and
// verifiers, seeded from the vectors. Nothing may panic, and a bundle
// that verifies must still verify after a re-encoding.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"vector.bundle", "entry3.tlog-proof", "4-23.consistency-proof"} {
		b, err := os.ReadFile(filepath.Join(vectorDir, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"bundle":"sealog-bundle/v1"}`))
	key := vectorKey(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		if b, err := bundle.Parse(data); err == nil {
			res := b.Verify(key)
			b.Verify("")
			if res.Valid {
				again, err := bundle.Verify(b.Marshal(), key)
				if err != nil || !again.Valid {
					t.Fatalf("a valid bundle does not survive re-encoding: %v", err)
				}
			}
		}
		if p, err := bundle.ParseInclusionProof(data); err == nil {
			p.Verify(key)
			p.Marshal()
		}
		if p, err := bundle.ParseConsistencyProof(data); err == nil {
			p.Verify(key)
			p.Marshal()
		}
	})
}
