package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/sealog/sealog/compat"
)

// legacyFormatNames describes each legacy format in the report.
var legacyFormatNames = map[compat.Format]string{
	compat.Spine:            "Spine WAL v1 (Ed25519-signed records, BLAKE3 payload hashes)",
	compat.Spanforge:        "spanforge audit chain (HMAC-SHA256 over event_id, checksum, prev_id)",
	compat.ImmutableLogging: "immutable-logging (log file + .integrity sidecar, unkeyed SHA-256 chain)",
}

// legacyWarnings says in words what each warning code means.
var legacyWarnings = map[string]string{
	compat.WarnUnprotectedFields:          "some fields carry no integrity protection: anyone can edit them and the log still verifies (listed below)",
	compat.WarnTailTruncationUndetectable: "records cut from the end leave a shorter log that still verifies: give --anchor FILE (a count and head hash recorded elsewhere) to rule it out",
	compat.WarnUnkeyedHashRewritable:      "the hash chain has no key: whoever can write the files can rewrite them and recompute every hash",
	compat.WarnEmptyLog:                   "the log holds no records",
	compat.WarnTornLineSkipped:            "a segment ended in a half-written line (a crash), which was skipped",
}

// writeLegacyText writes a compat.Report for people.
func writeLegacyText(w io.Writer, r *compat.Report, path, detected string) {
	p := func(label, format string, args ...any) {
		fmt.Fprintf(w, "%-15s %s\n", label, fmt.Sprintf(format, args...))
	}
	fmt.Fprintf(w, "legacy log verification report\n\n")
	status := "VALID"
	if !r.Valid {
		status = "TAMPERED"
	}
	p("status:", "%s", status)
	p("input:", "%s", path)
	p("format:", "%s", detected)
	p("", "%s", legacyFormatNames[r.Format])
	files := ""
	if len(r.Files) > 1 {
		files = fmt.Sprintf(" in %d files: %s", len(r.Files), strings.Join(r.Files, ", "))
	}
	p("records:", "%d%s", r.Records, files)
	if r.SignaturesChecked > 0 {
		used := ""
		if len(r.KeysUsed) > 0 {
			used = " (keys: " + strings.Join(r.KeysUsed, ", ") + ")"
		}
		p("signatures:", "%d verified%s", r.SignaturesChecked, used)
	}
	if r.ReceiptsChecked > 0 || r.ReceiptsUnverified > 0 {
		p("receipts:", "%d verified, %d not verifiable without the server key", r.ReceiptsChecked, r.ReceiptsUnverified)
	}
	p("tampered:", "%d", r.TamperedCount)
	if r.MissingCount > 0 {
		p("missing:", "%d", r.MissingCount)
	}
	if r.TombstoneCount > 0 {
		p("tombstones:", "%d (erased records that verify), at index %s", r.TombstoneCount, joinInts(r.Tombstones))
	} else {
		p("tombstones:", "0")
	}
	if r.FirstInvalid != nil {
		loc := ""
		if r.FirstInvalidFile != "" {
			loc = " in " + r.FirstInvalidFile
		}
		p("first invalid:", "record index %d%s: %s", *r.FirstInvalid, loc, r.Reason)
	}
	if r.TruncationChecked {
		p("truncation:", "checked against the anchor")
	} else {
		p("truncation:", "NOT ruled out (no anchor given)")
	}
	if len(r.Problems) > 0 {
		fmt.Fprintf(w, "\nproblems (%d):\n", len(r.Problems)+r.ProblemsOmitted)
		for i, pr := range r.Problems {
			if i == 20 {
				fmt.Fprintf(w, "  ... and %d more (--json lists up to %d)\n", len(r.Problems)+r.ProblemsOmitted-20, compat.MaxProblems)
				break
			}
			loc := ""
			if pr.File != "" {
				loc = fmt.Sprintf(" (%s line %d)", pr.File, pr.Line)
			}
			fmt.Fprintf(w, "  record %d%s: %s\n", pr.Index, loc, pr.Reason)
		}
	}
	fmt.Fprintf(w, "\nwhat this format cannot protect:\n")
	if len(r.Warnings) == 0 && len(r.UnprotectedFields) == 0 {
		fmt.Fprintf(w, "  (nothing reported)\n")
	}
	for _, code := range r.Warnings {
		text := legacyWarnings[code]
		if text == "" {
			text = code
		}
		fmt.Fprintf(w, "  - [%s] %s\n", code, text)
	}
	if len(r.UnprotectedFields) > 0 {
		fmt.Fprintf(w, "  - unprotected fields: %s\n", strings.Join(r.UnprotectedFields, ", "))
	}
	if len(r.Notes) > 0 {
		fmt.Fprintf(w, "\nnotes:\n")
		for _, n := range r.Notes {
			fmt.Fprintf(w, "  - %s\n", n)
		}
	}
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}
