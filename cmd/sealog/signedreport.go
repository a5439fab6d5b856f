package main

import (
	"encoding/json"
	"io"

	"golang.org/x/mod/sumdb/note"
)

// writeSignedReport writes the JSON report as a C2SP signed note signed
// by signer: the report's text is the indented JSON (which never holds a
// blank line), so 'sealog verify-report' or any signed-note verifier can
// check it with the signer's verifier key, and no byte of it can change
// unnoticed.
func writeSignedReport(w io.Writer, rep any, signer note.Signer) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	msg, err := note.Sign(&note.Note{Text: string(b) + "\n"}, signer)
	if err != nil {
		return ioError("signing the report: %v", err)
	}
	_, err = w.Write(msg)
	return err
}
