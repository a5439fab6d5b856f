package verify

import (
	"golang.org/x/mod/sumdb/tlog"
)

// Verdicts of a Report (Report.Verdict).
const (
	// VerdictValid: every entry is authenticated and nothing is wrong.
	VerdictValid = "valid"
	// VerdictTampered: the files were changed; Problems say what and where.
	VerdictTampered = "tampered"
	// VerdictUnsigned: nothing is wrong but that entries at the end are
	// covered by no verified signature, in the shape that only a writer's
	// crash leaves (an unfinished batch at the end of the last segment).
	// Only the writer's next open can tell: it cuts a crash remnant off
	// (into torn/). If the writer has opened the log since, or never
	// crashed, someone without the key added them.
	VerdictUnsigned = "unsigned"
	// VerdictWrongKey: no signature in the log verifies with the key
	// given: the log is signed by another key (was the right key given?),
	// or was rewritten and re-signed from its start. No entry is counted as
	// changed: nothing can be said of them without the log's key.
	VerdictWrongKey = "wrong-key"
	// VerdictRevoked: nothing else is wrong, but entries are covered only
	// by a revoked key's signatures past its revocation point
	// (Options.Revocations; Report.Revoked says which).
	VerdictRevoked = "revoked"
	// VerdictIncomplete: the log could not be checked completely (a limit
	// was reached); what was checked is in order.
	VerdictIncomplete = "incomplete"
)

// Report is the outcome of verifying a log: what was checked, what is
// wrong and where, and what could not be ruled out.
type Report struct {
	// Valid is the verdict: no problem was found in the entries, their
	// chain, their tree or any signed checkpoint, no signed checkpoint
	// covers entries the log does not hold, and every entry is covered by
	// a verified signature.
	Valid bool `json:"valid"`
	// Verdict is one of the Verdict constants: why the log is not valid.
	Verdict string `json:"verdict"`

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
	// signature covers: every byte of them is proven. It is the size of
	// the largest tree whose signature verified.
	Authenticated uint64 `json:"authenticated"`
	// Signatures counts the signatures (batch signatures and checkpoints)
	// that verified with the key; SignaturesFailed those that did not;
	// SignaturesUnchecked the batch signature members that were not
	// checked (by default only the ones needed are: Options.AllSignatures
	// checks every one). Every member is well-formed and carries the key's
	// key hash, or it is counted failed.
	Signatures          int `json:"signatures_verified"`
	SignaturesFailed    int `json:"signatures_failed"`
	SignaturesUnchecked int `json:"signatures_unchecked"`
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
	// Changed counts the entries shown to be changed (content, header,
	// seq, time, an unreadable line, a forged erasure, or the first batch
	// whose signature fails when nothing narrows it down); Missing those
	// that are gone (gaps, and entries a signed checkpoint covers beyond
	// the end); Inserted the lines that repeat an entry; Reordered the
	// entries out of place. Tampered is their sum.
	Changed   uint64 `json:"changed_count"`
	Missing   uint64 `json:"missing_count"`
	Inserted  uint64 `json:"inserted_count"`
	Reordered uint64 `json:"reordered_count"`
	Tampered  uint64 `json:"tampered_count"`
	// Erased counts entries whose body was erased by the writer: their
	// commitment and chain remain, the content is gone, and an erasure
	// record covered by a verified signature names each. ForgedErasures
	// counts entries in the erased form without such a record (tampering,
	// also counted in Changed). ErasuresUnchecked counts those that could
	// not be judged: the log is damaged elsewhere, or not signed by the key
	// given, so their records cannot be authenticated.
	Erased int `json:"erased_count"`
	// ErasedEntries lists the legitimately erased entries (those counted
	// in Erased), each with the seq of the erasure record that names it,
	// in the order of the records.
	ErasedEntries     []ErasedEntry `json:"erased_entries"`
	ForgedErasures    int           `json:"forged_erasure_count"`
	ErasuresUnchecked int           `json:"erasures_unchecked"`
	// Unsigned counts the entries after the authenticated ones (see
	// VerdictUnsigned): never part of the verified log.
	Unsigned uint64 `json:"unsigned_count"`
	// TornBytes is the length of an unterminated line at the end of the
	// last segment: a write cut short, not part of the log.
	TornBytes int `json:"torn_bytes"`

	// Keys is the log's chain of keys as the verifier followed it: each
	// key and the entries whose batches it signs (one key for a log never
	// rotated). ForgedRotations counts rotation records that do not hand
	// over from the key in effect with its signature (also in Changed).
	Keys            []KeyRange `json:"keys"`
	ForgedRotations int        `json:"forged_rotation_count"`
	// Revoked says, for each revocation statement given, which entries
	// only the revoked key vouches for past its point.
	Revoked []RevokedRange `json:"revoked,omitempty"`

	// Checkpoint is the newest signed checkpoint the log was checked
	// against.
	Checkpoint *CheckpointInfo `json:"checkpoint,omitempty"`
	// Trusted lists the checkpoints given from outside the log and what
	// became of them.
	Trusted []CheckpointInfo `json:"trusted_checkpoints,omitempty"`
	// TruncationChecked says a checkpoint from outside the log (a receipt,
	// a witness, one saved earlier) was given and checked: either the log
	// holds everything it covers (it was not cut back below its size) or
	// Truncated reports what is missing. TruncationCheckedTo is the
	// largest such size: entries from there on are not covered by any
	// checkpoint from outside the log. Without one, entries removed from
	// the end together with the log's own checkpoint cannot be detected by
	// anyone.
	TruncationChecked   bool   `json:"truncation_checked"`
	TruncationCheckedTo uint64 `json:"truncation_checked_to"`
	// Truncated says a signed checkpoint covers entries the log does not
	// hold.
	Truncated bool `json:"truncated"`

	// FirstTime and LastTime are the times of the first and the last
	// entry read in seq order (RFC 3339, UTC, nanoseconds); empty for a
	// log without entries. With Entries and Authenticated they give the
	// seq and time range the report covers.
	FirstTime string `json:"first_time"`
	LastTime  string `json:"last_time"`

	// Pruned, for a pruned log, says which entries were deleted and by
	// which prune record (docs/FORMAT.md §13); nil for a log never pruned.
	Pruned *PruneInfo `json:"pruned,omitempty"`

	// Timestamps lists the log's RFC 3161 timestamps and what became of
	// each (TimestampInfo), in ascending size. TimestampsChecked says
	// their signers were checked against TSA roots (Options.Timestamps), not only
	// bound to their checkpoints. TimestampedTo is the size of the
	// largest good one: entries from there on have no proof of time.
	Timestamps        []TimestampInfo `json:"timestamps,omitempty"`
	TimestampsChecked bool            `json:"timestamps_checked"`
	TimestampedTo     uint64          `json:"timestamped_to"`

	// Live says the log was being written during verification.
	Live bool `json:"live"`

	Segments int      `json:"segments"`
	Bytes    int64    `json:"bytes"`
	Warnings []string `json:"warnings"`
}

// ErasedEntry is an erased entry and the erasure record that names it.
type ErasedEntry struct {
	Seq    uint64 `json:"seq"`
	Record uint64 `json:"record"` // seq of the erasure record
}

// Problem is one thing found wrong.
type Problem struct {
	// Seq is the entry at fault; nil for a problem with a checkpoint or a
	// file rather than an entry.
	Seq *uint64 `json:"seq"`
	// Kind classifies it: malformed, seq, gap, order, duplicate, chain,
	// time, content, erasure, signature, checkpoint, truncated, segment,
	// metadata, unsigned, key, limit.
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
