package verify

import (
	"golang.org/x/mod/sumdb/tlog"
)

// Report is the outcome of verifying a log: what was checked, what is
// wrong and where, and what could not be ruled out.
type Report struct {
	// Valid is the verdict: no problem was found in the entries, their
	// chain, their tree or any signed checkpoint, and no signed checkpoint
	// covers entries the log does not hold.
	Valid bool `json:"valid"`

	Origin string `json:"origin"`
	// Key is the verifier key signatures were checked with. KeyFromLog
	// says it was read from the log itself, so the result only shows that
	// the log is consistent with that key, not that the key is the right
	// one.
	Key        string `json:"key"`
	KeyFromLog bool   `json:"key_from_log"`

	// Entries is the number of entry lines read.
	Entries uint64 `json:"entries"`
	// Authenticated is the number of entries, from seq 0, that a verified
	// signature covers: every byte of them is proven.
	Authenticated uint64 `json:"authenticated"`
	// Signatures is the number of signatures verified.
	Signatures int `json:"signatures_checked"`
	// ChainIntact says every entry's prev is the previous entry's leaf
	// hash, seqs run without gaps, and times never go backwards.
	ChainIntact bool `json:"chain_intact"`

	// FirstInvalid is the seq of the first entry shown to be bad, or nil.
	// When entries are missing at the end it is the first missing seq.
	FirstInvalid *uint64 `json:"first_invalid"`
	// FirstProblem describes it (nil when FirstInvalid is nil, unless the
	// problem is with a checkpoint rather than an entry).
	FirstProblem *Problem `json:"first_problem,omitempty"`
	// Problems lists what is wrong, in the order found (at most
	// Options.MaxProblems; ProblemsOmitted counts the rest).
	Problems        []Problem `json:"problems"`
	ProblemsOmitted int       `json:"problems_omitted,omitempty"`

	// Gaps are the seq ranges missing from the log.
	Gaps []Gap `json:"gaps"`
	// Tampered counts the entries shown to be changed, out of place,
	// duplicated or unreadable.
	Tampered int `json:"tampered_count"`
	// Erased counts entries whose body was erased: their commitment and
	// chain remain, the content is gone.
	Erased int `json:"erased_count"`
	// Unsigned counts entries after the newest signature that covers
	// them: never acknowledged by the writer (it crashed mid-batch, or is
	// writing now) or added by someone else. They are not part of the
	// verified log.
	Unsigned uint64 `json:"unsigned_count"`

	// Checkpoint is the newest signed checkpoint the log was checked
	// against.
	Checkpoint *CheckpointInfo `json:"checkpoint,omitempty"`
	// Trusted lists the checkpoints given from outside the log and what
	// became of them.
	Trusted []CheckpointInfo `json:"trusted_checkpoints,omitempty"`
	// TruncationChecked says a checkpoint from outside the log (a receipt,
	// a witness, one saved earlier) was given and checked: either the log
	// holds everything it covers (it was not cut back below its size) or
	// Truncated reports what is missing. Without one, entries removed from
	// the end together with the log's own checkpoint cannot be detected by
	// anyone.
	TruncationChecked bool `json:"truncation_checked"`
	// Truncated says a signed checkpoint covers entries the log does not
	// hold.
	Truncated bool `json:"truncated"`

	// Live says the log was being written during verification.
	Live bool `json:"live"`

	Segments int      `json:"segments"`
	Bytes    int64    `json:"bytes"`
	Warnings []string `json:"warnings"`
}

// Problem is one thing found wrong.
type Problem struct {
	// Seq is the entry at fault; nil for a problem with a checkpoint or a
	// file rather than an entry.
	Seq *uint64 `json:"seq"`
	// Kind classifies it: malformed, seq, gap, order, duplicate, chain,
	// time, content, signature, checkpoint, truncated, segment.
	Kind string `json:"kind"`
	// Segment and Line locate it (Line counts from 1).
	Segment string `json:"segment,omitempty"`
	Line    int    `json:"line,omitempty"`
	Reason  string `json:"reason"`
}

// Gap is a range of missing seqs, From to To inclusive.
type Gap struct {
	From uint64 `json:"from"`
	To   uint64 `json:"to"`
}

// CheckpointInfo describes a signed checkpoint and whether it holds.
type CheckpointInfo struct {
	Source string    `json:"source"` // "log", "checkpoint file", "trusted checkpoint"
	Size   uint64    `json:"size"`
	Root   tlog.Hash `json:"root"`
	// Status: "ok", "bad signature", "root mismatch", "beyond the log",
	// "not checked" (entries before it were already bad).
	Status string `json:"status"`
}
