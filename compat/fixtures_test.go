package compat

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// fixtureRoot is the copy of the shared compat fixtures.
const fixtureRoot = "../testdata/compat"

// expected is the part of a case's expected.json the verdict is compared with.
type expected struct {
	Case              string          `json:"case"`
	Format            string          `json:"format"`
	Input             json.RawMessage `json:"input"`
	VerifyWith        json.RawMessage `json:"verify_with"`
	Valid             bool            `json:"valid"`
	FirstInvalid      *int            `json:"first_invalid"`
	FirstInvalidFile  string          `json:"first_invalid_file"`
	Records           *int            `json:"records"`
	Warnings          []string        `json:"warnings"`
	UnprotectedFields []string        `json:"unprotected_fields"`
	Anchor            json.RawMessage `json:"anchor"`
	WithAnchor        *struct {
		Valid        bool `json:"valid"`
		FirstInvalid *int `json:"first_invalid"`
	} `json:"with_anchor"`
	TombstoneCount *int `json:"tombstone_count"`
}

// inputs returns the case's input paths, oldest first.
func (e *expected) inputs(dir string) []string {
	var one string
	if json.Unmarshal(e.Input, &one) == nil {
		return []string{filepath.Join(dir, one)}
	}
	var many []string
	_ = json.Unmarshal(e.Input, &many)
	for i := range many {
		many[i] = filepath.Join(dir, many[i])
	}
	return many
}

func fmtInt(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestFixtures walks every testdata/compat/*/*/expected.json and checks
// the verdict, with the case's own verify_with and anchor.
func TestFixtures(t *testing.T) {
	cases, err := filepath.Glob(filepath.Join(fixtureRoot, "*", "*", "expected.json"))
	if err != nil || len(cases) == 0 {
		t.Fatalf("no fixtures under %s: %v", fixtureRoot, err)
	}
	for _, path := range cases {
		dir := filepath.Dir(path)
		name := filepath.Base(filepath.Dir(dir)) + "/" + filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var exp expected
			if err := json.Unmarshal(data, &exp); err != nil {
				t.Fatal(err)
			}
			f, err := ParseFormat(exp.Format)
			if err != nil {
				t.Fatal(err)
			}
			trust := Trust{}
			if len(exp.VerifyWith) > 0 {
				if trust, err = ParseTrust(exp.VerifyWith); err != nil {
					t.Fatal(err)
				}
			}
			in := exp.inputs(dir)
			target := in[len(in)-1]
			if got, err := Detect(target); err != nil || got != f {
				t.Errorf("Detect(%s) = %q, %v; want %q", target, got, err, f)
			}
			rep, err := Verify(context.Background(), f, target, Options{Trust: trust})
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			checkVerdict(t, rep, exp.Valid, exp.FirstInvalid)
			if exp.Records != nil && rep.Records != *exp.Records {
				t.Errorf("records = %d, want %d", rep.Records, *exp.Records)
			}
			for _, w := range exp.Warnings {
				if !slices.Contains(rep.Warnings, w) {
					t.Errorf("warnings %v lack %q", rep.Warnings, w)
				}
			}
			if exp.UnprotectedFields != nil && !slices.Equal(rep.UnprotectedFields, exp.UnprotectedFields) {
				t.Errorf("unprotected_fields = %v, want %v", rep.UnprotectedFields, exp.UnprotectedFields)
			}
			if exp.FirstInvalidFile != "" && filepath.Base(rep.FirstInvalidFile) != filepath.Base(exp.FirstInvalidFile) {
				t.Errorf("first_invalid_file = %q, want %q", rep.FirstInvalidFile, exp.FirstInvalidFile)
			}
			if exp.TombstoneCount != nil && rep.TombstoneCount != *exp.TombstoneCount {
				t.Errorf("tombstone_count = %d, want %d", rep.TombstoneCount, *exp.TombstoneCount)
			}
			if len(in) > 1 && !slices.Equal(rep.Files, in) {
				t.Errorf("files = %v, want %v", rep.Files, in)
			}
			if len(exp.Anchor) == 0 || exp.WithAnchor == nil {
				return
			}
			a, err := ParseAnchor(exp.Anchor)
			if err != nil {
				t.Fatal(err)
			}
			rep, err = Verify(context.Background(), f, target, Options{Trust: trust, Anchor: &a})
			if err != nil {
				t.Fatalf("Verify with anchor: %v", err)
			}
			if !rep.TruncationChecked {
				t.Error("truncation_checked is false with an anchor")
			}
			checkVerdict(t, rep, exp.WithAnchor.Valid, exp.WithAnchor.FirstInvalid)
		})
	}
}

func checkVerdict(t *testing.T, rep *Report, valid bool, first *int) {
	t.Helper()
	if rep.Valid != valid || fmtInt(rep.FirstInvalid) != fmtInt(first) {
		t.Errorf("valid=%v first_invalid=%v, want valid=%v first_invalid=%v (reason: %s; problems: %+v)",
			rep.Valid, fmtInt(rep.FirstInvalid), valid, fmtInt(first), rep.Reason, rep.Problems)
	}
}
