package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/sealog/sealog/bundle"
	"github.com/sealog/sealog/checkpoint"
)

var verifyReportCmd = &command{
	name:    "verify-report",
	summary: "check a report signed by 'sealog verify --sign-report'",
	usage: `Usage: sealog verify-report FILE --key FILE.pub [--json]

Checks a verification report signed with 'sealog verify --sign-report KEY':
that its signature verifies with the signer's verifier key (KEY.pub, from
your own records), so that not a byte of it was changed since it was
signed. Prints who signed it and what it says: the status, the log, when
and with which tool it was verified, and the inputs with their SHA-256.
FILE - reads stdin.

The signed report is a C2SP signed note whose text is the JSON report of
'sealog verify --json'; any signed-note verifier can check it.

Flags:
    --key K    the signer's verifier key: a .pub file or the key text (required)
    --json     print {"signature_ok","signer","valid","report"}

Exit status: 0 the signature verifies and the report says the log is
valid, 1 the signature does not verify or the report says the log is not
valid, 2 usage error, 3 not a signed report or unreadable.
`,
}

func init() { verifyReportCmd.run = runVerifyReport }

// maxSignedReport bounds a signed report (the JSON lists every problem).
const maxSignedReport = 256 << 20

func runVerifyReport(e *env, args []string) error {
	c := verifyReportCmd
	fl := newFlags(c)
	keyArg := fl.String("key", "", "")
	asJSON := fl.Bool("json", false, "")
	pos, err := parseArgs(e, c, fl, args)
	if err != nil {
		return err
	}
	if err := wantArgs(c, pos, 1, 1, "FILE (the signed report)"); err != nil {
		return err
	}
	if *keyArg == "" {
		return usageError("verify-report: missing --key FILE.pub (the verifier key of whoever signed the report)")
	}
	vkey, err := loadVerifierKey(*keyArg)
	if err != nil {
		return err
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return usageError("--key: malformed verifier key: %v", err)
	}
	var b []byte
	if pos[0] == "-" {
		b, err = io.ReadAll(io.LimitReader(e.stdin, maxSignedReport+1))
		if err == nil && len(b) > maxSignedReport {
			err = fmt.Errorf("over the %d-byte limit", maxSignedReport)
		}
	} else {
		b, err = bundle.ReadLimited(pos[0], maxSignedReport)
	}
	if err != nil {
		return ioError("%s: %v", pos[0], pathErr(err))
	}
	b = checkpoint.Normalize(b)
	n, err := note.Open(b, note.VerifierList(v))
	sigOK := err == nil
	var text string
	switch {
	case sigOK:
		text = n.Text
	default:
		var ue *note.UnverifiedNoteError
		var ie *note.InvalidSignatureError
		i := strings.LastIndex(string(b), "\n\n")
		switch {
		case errors.As(err, &ue):
			text = ue.Note.Text
		case errors.As(err, &ie) && i >= 0:
			text = string(b[:i+1])
		default:
			return ioError("%s is not a signed report: %v", pos[0], err).
				withHint("give the output of 'sealog verify --sign-report KEY'")
		}
	}
	var rep struct {
		ReportFormat string      `json:"report_format"`
		VerifiedAt   string      `json:"verified_at"`
		Log          string      `json:"log"`
		Valid        bool        `json:"valid"`
		Verdict      string      `json:"verdict"`
		Origin       string      `json:"origin"`
		Key          string      `json:"key"`
		KeySource    string      `json:"key_source"`
		Tool         toolInfo    `json:"tool"`
		Inputs       []inputFile `json:"inputs"`
	}
	if err := json.Unmarshal([]byte(text), &rep); err != nil || rep.ReportFormat == "" {
		return ioError("%s is a signed note but not a sealog verify report", pos[0])
	}
	valid := sigOK && rep.Valid
	if *asJSON {
		out := map[string]any{"signature_ok": sigOK, "signer": v.Name(), "valid": valid, "report": json.RawMessage(text)}
		if err := writeJSON(e.stdout, out); err != nil {
			return err
		}
	} else {
		bw := bufio.NewWriter(e.stdout)
		if sigOK {
			fmt.Fprintf(bw, "signature:      ok, signed by %s\n", v.Name())
		} else {
			fmt.Fprintf(bw, "signature:      NOT VERIFIED with %s: the report may have been changed; trust none of it\n", v.Name())
		}
		fmt.Fprintf(bw, "report:         %s\n", rep.ReportFormat)
		fmt.Fprintf(bw, "status:         %s\n", strings.ToUpper(strings.ReplaceAll(orDefault(rep.Verdict, "unknown"), "-", " ")))
		fmt.Fprintf(bw, "log:            %s (origin %s)\n", rep.Log, rep.Origin)
		fmt.Fprintf(bw, "key:            %s (%s)\n", rep.Key, rep.KeySource)
		fmt.Fprintf(bw, "verified at:    %s by %s %s\n", rep.VerifiedAt, rep.Tool.Name, rep.Tool.Version)
		for i, in := range rep.Inputs {
			label := ""
			if i == 0 {
				label = "inputs:"
			}
			what := in.Path
			if in.Text {
				what = "(given inline)"
			}
			fmt.Fprintf(bw, "%-15s %-10s %s sha256:%s\n", label, in.Role, what, in.SHA256)
		}
		if err := bw.Flush(); err != nil {
			return err
		}
	}
	if !valid {
		return errFailedQuiet
	}
	return nil
}
