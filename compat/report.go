package compat

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Warning codes, as the fixtures spell them.
const (
	WarnUnprotectedFields          = "unprotected_fields"
	WarnTailTruncationUndetectable = "tail_truncation_undetectable"
	WarnEmptyLog                   = "empty_log"
	WarnTornLineSkipped            = "torn_line_skipped"
	WarnUnkeyedHashRewritable      = "unkeyed_hash_rewritable"
)

// MaxProblems is how many problems a Report lists; the rest are counted in
// ProblemsOmitted.
const MaxProblems = 1000

// maxTombstones bounds Report.Tombstones; TombstoneCount counts them all.
const maxTombstones = 10000

// Report is the verdict on one log.
type Report struct {
	Format            Format    `json:"format"`
	Valid             bool      `json:"valid"`
	Records           int       `json:"records"`
	FirstInvalid      *int      `json:"first_invalid"`
	FirstInvalidFile  string    `json:"first_invalid_file,omitempty"`
	Reason            string    `json:"reason,omitempty"`
	Problems          []Problem `json:"problems"`
	ProblemsOmitted   int       `json:"problems_omitted,omitempty"`
	TamperedCount     int       `json:"tampered_count"`
	MissingCount      int       `json:"missing_count,omitempty"`
	TombstoneCount    int       `json:"tombstone_count"`
	Tombstones        []int     `json:"tombstones,omitempty"`
	Warnings          []string  `json:"warnings"`
	UnprotectedFields []string  `json:"unprotected_fields,omitempty"`
	Notes             []string  `json:"notes,omitempty"`
	TruncationChecked bool      `json:"truncation_checked"`
	Files             []string  `json:"files,omitempty"`
	// SignaturesChecked counts Ed25519 (Spine) or HMAC (spanforge)
	// verifications that succeeded.
	SignaturesChecked int `json:"signatures_checked,omitempty"`
	// KeysUsed names the Spine key_ids, or describes the spanforge secrets
	// (never their values), that verified records.
	KeysUsed []string `json:"keys_used,omitempty"`
	// ReceiptsChecked counts Spine receipts verified with the server key;
	// ReceiptsUnverified counts those that could not be (no server key).
	ReceiptsChecked    int `json:"receipts_checked,omitempty"`
	ReceiptsUnverified int `json:"receipts_unverified,omitempty"`
	// TornLines counts Spine torn writes skipped.
	TornLines int `json:"torn_lines,omitempty"`
}

// Problem is one bad record, or records missing at the end (Index is then
// where the first missing one belongs). Index follows FirstInvalid's
// convention; Line is the 1-based line in File.
type Problem struct {
	Index  int    `json:"index"`
	File   string `json:"file,omitempty"`
	Line   int    `json:"line,omitempty"`
	Reason string `json:"reason"`
}

// builder accumulates a Report while records stream past in order.
type builder struct {
	r        *Report
	warned   map[string]bool
	keysSeen map[string]bool
}

func newBuilder(f Format) *builder {
	return &builder{
		r:        &Report{Format: f, Valid: true, Problems: []Problem{}, Warnings: []string{}},
		warned:   map[string]bool{},
		keysSeen: map[string]bool{},
	}
}

// bad records a bad record (missing=false) or missing records (missing=true).
func (b *builder) bad(index int, file string, line int, missing bool, reasons ...string) {
	reason := strings.Join(reasons, "; ")
	r := b.r
	if missing {
		r.MissingCount++
	} else {
		r.TamperedCount++
	}
	// Problems arrive in file order, except those found at the end (head
	// state, anchor), which may point before the first one seen: keep the
	// earliest. Files of a rotated set are finished one by one, in order.
	if r.Valid || (index < *r.FirstInvalid && (r.Format != ImmutableLogging || file == r.FirstInvalidFile)) {
		r.Valid = false
		i := index
		r.FirstInvalid = &i
		r.FirstInvalidFile = file
		r.Reason = reason
		if line > 0 {
			r.Reason = fmt.Sprintf("line %d of %s: %s", line, filepath.Base(file), reason)
		}
	}
	if len(r.Problems) >= MaxProblems {
		r.ProblemsOmitted++
		return
	}
	r.Problems = append(r.Problems, Problem{Index: index, File: file, Line: line, Reason: reason})
}

func (b *builder) warn(code string) {
	if !b.warned[code] {
		b.warned[code] = true
		b.r.Warnings = append(b.r.Warnings, code)
	}
}

func (b *builder) note(format string, args ...any) {
	b.r.Notes = append(b.r.Notes, fmt.Sprintf(format, args...))
}

func (b *builder) usedKey(desc string) {
	if !b.keysSeen[desc] {
		b.keysSeen[desc] = true
		b.r.KeysUsed = append(b.r.KeysUsed, desc)
	}
}

func (b *builder) tombstone(index int) {
	b.r.TombstoneCount++
	if len(b.r.Tombstones) < maxTombstones {
		b.r.Tombstones = append(b.r.Tombstones, index)
	}
}

// finish adds the warnings every report of this format carries.
func (b *builder) finish(truncationChecked bool) *Report {
	r := b.r
	r.TruncationChecked = truncationChecked
	if !truncationChecked {
		b.warn(WarnTailTruncationUndetectable)
		b.note("Tail truncation cannot be ruled out without an external checkpoint: records cut from the end leave a shorter chain that still verifies. Pass an anchor (entry count and last hash recorded elsewhere) to check it.")
	}
	if r.Records == 0 {
		b.warn(WarnEmptyLog)
		b.note("The log holds no records.")
	}
	return r
}
