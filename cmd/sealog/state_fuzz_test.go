package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/internal/testkit"
)

// FuzzLoadState: a --state file is untrusted input. loadState must never
// panic, and a state it accepts holds a signed checkpoint that agrees
// with its size, root and origin, and records the file among the inputs.
func FuzzLoadState(f *testing.F) {
	skey, vkey := testkit.Keys("state-fuzz", "ex.com/audit")
	signer, err := note.NewSigner(skey)
	if err != nil {
		f.Fatal(err)
	}
	v, _ := note.NewVerifier(vkey)
	ck, err := note.Sign(&note.Note{Text: "ex.com/audit\n3\nZWSx7ZfHsR4YAVHNoztPK3K1DjMlu/yR1c9zEbTqxEc=\n"}, signer)
	if err != nil {
		f.Fatal(err)
	}
	st, err := newState(ck, v, vkey, testkit.Clock(0)(), "2026-11-21T00:00:00Z")
	if err != nil {
		f.Fatal(err)
	}
	good, _ := json.MarshalIndent(st, "", "  ")
	f.Add(good)
	f.Add([]byte(`{}`))
	f.Add([]byte(strings.Replace(string(good), `"size": 3`, `"size": 4`, 1)))
	f.Add([]byte(`{"format":"sealog-verify-state/v1","checkpoint":"x\n\n— y z\n"}`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(dir, "st")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		in := &inputSet{}
		s, err := loadState(path, "", in)
		if err != nil || s == nil {
			return
		}
		c := noteCheckpoint([]byte(s.Checkpoint))
		if c == nil || c.Size != s.Size || c.Root != s.Root {
			t.Fatalf("accepted a state whose checkpoint disagrees with it: %+v", s)
		}
		if len(in.inputs()) != 1 || in.inputs()[0].Role != "state" || in.inputs()[0].Bytes != len(b) {
			t.Fatalf("the state file was not recorded as an input: %+v", in.inputs())
		}
	})
}

// FuzzVerifyReport: 'sealog verify-report' reads an untrusted file. It
// must never panic, and exit 0 only for a report whose signature verifies
// with the key given and which says the log is valid.
func FuzzVerifyReport(f *testing.F) {
	skey, vkey := testkit.Keys("report-fuzz", "auditor.example/reports")
	signer, err := note.NewSigner(skey)
	if err != nil {
		f.Fatal(err)
	}
	v, _ := note.NewVerifier(vkey)
	signed, err := note.Sign(&note.Note{Text: "{\n  \"report_format\": \"sealog-verify-report/v1\",\n  \"valid\": true\n}\n"}, signer)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(signed)
	f.Add([]byte("{}\n\n— auditor.example/reports AAAA\n"))
	f.Add([]byte("hello"))
	f.Fuzz(func(t *testing.T, b []byte) {
		code, _, _ := runStdin(t, nil, string(b), "verify-report", "-", "--key", vkey)
		if code != exitOK {
			return
		}
		n, err := note.Open(checkpoint.Normalize(b), note.VerifierList(v))
		if err != nil {
			t.Fatalf("exit 0 for a report that does not verify: %v", err)
		}
		var r struct {
			Valid bool `json:"valid"`
		}
		if json.Unmarshal([]byte(n.Text), &r) != nil || !r.Valid {
			t.Fatalf("exit 0 for a report that does not say valid: %q", n.Text)
		}
	})
}
