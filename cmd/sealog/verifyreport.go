package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/sealog/sealog/bundle"
	"github.com/sealog/sealog/verify"
)

// The report 'sealog verify' prints for a sealog log: the verifier's
// verify.Report, and around it what makes the report evidence on its
// own — when it ran, with which tool, on what, and every input with its
// SHA-256. Features that add inputs or checks (a state file, a witness
// policy, key rotation, timestamps) add a section: a pointer field with
// omitempty here, a row in docs/CLI.md's table (TestVerifyJSONDocumented
// compares that table with real output), and their input files read
// through inputSet.read.

// reportFormat names the JSON report's shape; it changes when a field
// changes meaning or goes away (new fields may appear at any time).
const reportFormat = "sealog-verify-report/v1"

// verifyReport is the JSON report of 'sealog verify' for a sealog log.
type verifyReport struct {
	// ReportFormat is reportFormat.
	ReportFormat string   `json:"report_format"`
	Tool         toolInfo `json:"tool"`
	// VerifiedAt is when the verification ran (RFC 3339, UTC).
	VerifiedAt string `json:"verified_at"`
	// Log is the log as given on the command line (a directory, a URL).
	Log string `json:"log"`
	// Format is how the log's format was known: "sealog (--format)" or
	// what detection said.
	Format string `json:"format"`
	// KeySource says where the verifier key came from: "given" (--key)
	// or "log" (the log's own, which proves nothing about who signed).
	KeySource string `json:"key_source"`
	// Strict says --strict was given (and held: a strict run that fails
	// its conditions prints no report).
	Strict bool `json:"strict"`
	// Inputs lists every file (or text) the verification used besides
	// the log, with its SHA-256.
	Inputs []inputFile `json:"inputs"`
	// State is the --state section, when --state was given.
	State *stateReport `json:"state,omitempty"`

	*verify.Report
}

// toolInfo names the program that verified.
type toolInfo struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Go      string `json:"go"`
}

// inputFile is one input of a verification: what it was for, where it
// came from, and the SHA-256 of its bytes, so that a report names exactly
// what it was checked against.
type inputFile struct {
	// Role: "key", "checkpoint", "state", ... (one per flag).
	Role string `json:"role"`
	// Path is the file as given, or "" for a value given inline (Text).
	Path   string `json:"path,omitempty"`
	Text   bool   `json:"inline,omitempty"`
	SHA256 string `json:"sha256"`
	Bytes  int    `json:"bytes"`
}

// inputSet records the inputs of one verification. Every input file goes
// through read (or inline for values given on the command line), so that
// none is used without appearing in the report.
type inputSet struct {
	list []inputFile
}

// read reads the file at path, at most max bytes, and records it under
// role. Errors name the flag (--role) and the file.
func (s *inputSet) read(role, path string, max int64) ([]byte, error) {
	b, err := bundle.ReadLimited(path, max)
	if err != nil {
		return nil, err
	}
	s.add(role, path, false, b)
	return b, nil
}

// inline records a value given on the command line under role.
func (s *inputSet) inline(role string, b []byte) { s.add(role, "", true, b) }

func (s *inputSet) add(role, path string, text bool, b []byte) {
	h := sha256.Sum256(b)
	s.list = append(s.list, inputFile{Role: role, Path: path, Text: text, SHA256: hex.EncodeToString(h[:]), Bytes: len(b)})
}

// inputs returns what was recorded, never nil.
func (s *inputSet) inputs() []inputFile {
	if s.list == nil {
		return []inputFile{}
	}
	return s.list
}

// newVerifyReport wraps rep with the verification's context.
func newVerifyReport(rep *verify.Report, log, format string, in *inputSet, strict bool, at time.Time) *verifyReport {
	src := "given"
	if rep.KeyFromLog {
		src = "log"
	}
	return &verifyReport{
		ReportFormat: reportFormat,
		Tool:         toolInfo{Name: "sealog", Version: version(), Go: runtime.Version()},
		VerifiedAt:   at.UTC().Format(time.RFC3339),
		Log:          log,
		Format:       format,
		KeySource:    src,
		Strict:       strict,
		Inputs:       in.inputs(),
		Report:       rep,
	}
}

// writeText writes the report for people: the verifier's report, then
// the context and the sections.
func (r *verifyReport) writeText(w io.Writer, allProblems bool) error {
	bw := bufio.NewWriter(w)
	max := 0
	if allProblems {
		max = -1
	}
	if err := r.Report.WriteText(bw, verify.TextOptions{Name: r.Log, MaxProblems: max}); err != nil {
		return err
	}
	p := func(label, format string, args ...any) {
		fmt.Fprintf(bw, "%-15s %s\n", label, fmt.Sprintf(format, args...))
	}
	bw.WriteString("\n")
	if r.State != nil {
		r.State.writeText(bw, p)
	}
	p("format:", "%s", r.Format)
	p("verified at:", "%s", r.VerifiedAt)
	p("tool:", "%s %s (%s)", r.Tool.Name, r.Tool.Version, r.Tool.Go)
	if r.Strict {
		p("strict:", "yes: the key and every trust input came from outside the log")
	}
	if len(r.Inputs) == 0 {
		p("inputs:", "none besides the log")
	}
	for i, in := range r.Inputs {
		label := ""
		if i == 0 {
			label = "inputs:"
		}
		what := in.Path
		if in.Text {
			what = "(given inline)"
		}
		p(label, "%-10s %s sha256:%s", in.Role, what, in.SHA256)
	}
	return bw.Flush()
}

// verifyHints says on stderr what would make the verification stronger,
// repeating the user's command line with the flag to add.
func verifyHints(e *env, f *verifyFlags, rep *verify.Report) {
	args := f.args
	cmd := "sealog verify " + shellJoin(args)
	if rep.KeyFromLog {
		fmt.Fprintf(e.stderr, "hint: to prove who signed the log: %s --key FILE.pub\n", cmd)
	}
	if !rep.TruncationChecked && len(rep.Trusted) == 0 && f.state == "" {
		fmt.Fprintf(e.stderr, "hint: to rule out truncation: %s --checkpoint SAVED.ckpt (saved earlier with 'sealog checkpoint'), or --state FILE for the next runs\n", cmd)
	}
}

// shellJoin quotes args for a shell where needed.
func shellJoin(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a != "" && !strings.ContainsFunc(a, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%", r))
		}) {
			out[i] = a
			continue
		}
		out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(out, " ")
}

// maxKeyFile bounds a verifier key file.
const maxKeyFile = 64 << 10
