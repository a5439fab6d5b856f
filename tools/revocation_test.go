package tools_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealog/sealog/internal/vectors"
	"github.com/sealog/sealog/verify"
)

// TestPyRevocationVectors: verify.py checks revocation statements
// (docs/KEYS.md) as the Go verifier does: on every case of
// testdata/vectors/revocation/expected.json both give the expected
// verdict, first invalid seq and revoked ranges, or both refuse the
// statement (exit 3), and their reports agree member by member.
func TestPyRevocationVectors(t *testing.T) {
	need(t, "python3", "openssl")
	const dir = "../testdata/vectors/revocation"
	var cases []vectors.RevocationCase
	if err := json.Unmarshal(must(os.ReadFile(filepath.Join(dir, "expected.json"))), &cases); err != nil {
		t.Fatal(err)
	}
	_, k0 := vectors.RotatedKey(0)
	root := strings.TrimSpace(strings.SplitN(string(must(os.ReadFile(filepath.Join(dir, "root.keys")))), "\n", 2)[1])
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			args := []string{"verify.py", "../testdata/vectors/rotated", "--json", "--key", k0, "--keys", filepath.Join(dir, "root.keys")}
			o := verify.Options{Key: k0, Keys: []string{root}}
			for _, r := range c.Revocations {
				args = append(args, "--revocations", filepath.Join(dir, r))
				o.Revocations = append(o.Revocations, must(os.ReadFile(filepath.Join(dir, r))))
			}
			for _, cp := range c.Checkpoints {
				args = append(args, "--checkpoint", filepath.Join(dir, cp))
				o.Checkpoints = append(o.Checkpoints, must(os.ReadFile(filepath.Join(dir, cp))))
			}
			for _, w := range c.Witnesses {
				args = append(args, "--witness", filepath.Join(dir, w))
				o.Witnesses = append(o.Witnesses, strings.TrimSpace(string(must(os.ReadFile(filepath.Join(dir, w))))))
			}
			cmd := exec.CommandContext(ctx, "python3", args...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatalf("running verify.py: %v", err)
			}
			var py pyReport
			if err := json.Unmarshal(out, &py); err != nil {
				t.Fatalf("verify.py output is not JSON (exit %d): %v\n%s\n%s", code, err, out, stderr.Bytes())
			}
			g, gerr := verify.Verify(ctx, verify.Dir("../testdata/vectors/rotated"), o)
			var ie *verify.InputError
			if c.Verdict == "error" {
				if code != 3 || !errors.As(gerr, &ie) {
					t.Fatalf("want both to refuse the statement: verify.py exit %d (%s), Go %v", code, py.Error, gerr)
				}
				return
			}
			if gerr != nil {
				t.Fatal(gerr)
			}
			if d := disagreement(py, goView(g)); d != "" {
				t.Fatalf("verify.py and the Go verifier disagree: %s\npython: %s\ngo:     %s", d, brief(py), brief(goView(g)))
			}
			if py.Verdict != c.Verdict || seqStr(py.FirstInvalid) != seqStr(c.FirstInvalid) || fmt.Sprint(py.Revoked) != fmt.Sprint(c.Revoked) {
				t.Fatalf("verify.py: verdict %s first invalid %s revoked %+v; want %s %s %+v", py.Verdict, seqStr(py.FirstInvalid), py.Revoked, c.Verdict, seqStr(c.FirstInvalid), c.Revoked)
			}
			if want := map[bool]int{true: 0, false: 1}[g.Valid]; code != want {
				t.Fatalf("verify.py exit code %d, want %d", code, want)
			}
		})
	}
}
