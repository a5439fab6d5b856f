package sealog_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealog/sealog/internal/vectors"
	"github.com/sealog/sealog/verify"
)

const revocationVectors = "testdata/vectors/revocation"

// revocationOptions returns the verify options of a revocation vector
// case: the rotated log's first key, the root key of root.keys, and the
// case's statements, checkpoints and witnesses.
func revocationOptions(t *testing.T, c vectors.RevocationCase) verify.Options {
	t.Helper()
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(revocationVectors, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var root string
	for _, ln := range strings.Split(string(read("root.keys")), "\n") {
		if ln = strings.TrimSpace(ln); ln != "" && !strings.HasPrefix(ln, "#") {
			root = ln
		}
	}
	_, k0 := vectors.RotatedKey(0)
	o := verify.Options{Key: k0, Keys: []string{root}}
	for _, r := range c.Revocations {
		o.Revocations = append(o.Revocations, read(r))
	}
	for _, cp := range c.Checkpoints {
		o.Checkpoints = append(o.Checkpoints, read(cp))
	}
	for _, w := range c.Witnesses {
		o.Witnesses = append(o.Witnesses, strings.TrimSpace(string(read(w))))
	}
	return o
}

// TestRevocationVectors checks the revocation vectors (docs/KEYS.md,
// "Revocation"; testdata/vectors/revocation/expected.json) with the Go
// verifier: each case's verdict, first invalid seq and revoked ranges, or
// the refusal of its statement.
func TestRevocationVectors(t *testing.T) {
	var cases []vectors.RevocationCase
	if err := json.Unmarshal(must(os.ReadFile(filepath.Join(revocationVectors, "expected.json"))), &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 8 {
		t.Fatalf("%d cases", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			rep, err := verify.Verify(ctx, verify.Dir("testdata/vectors/rotated"), revocationOptions(t, c))
			var ie *verify.InputError
			if c.Verdict == "error" {
				if !errors.As(err, &ie) {
					t.Fatalf("err = %v, want the statement refused", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rep.Verdict != c.Verdict || fmt.Sprint(deref(rep.FirstInvalid)) != fmt.Sprint(deref(c.FirstInvalid)) {
				t.Fatalf("verdict %s first invalid %v, want %s %v: %+v", rep.Verdict, deref(rep.FirstInvalid), c.Verdict, deref(c.FirstInvalid), rep.Problems)
			}
			if fmt.Sprint(rep.Revoked) != fmt.Sprint(c.Revoked) {
				t.Fatalf("revoked %+v, want %+v", rep.Revoked, c.Revoked)
			}
		})
	}
}

func deref(p *uint64) any {
	if p == nil {
		return "none"
	}
	return *p
}
