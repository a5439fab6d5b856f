//go:build unix

// Package file is sealog's embedded store: a log in one directory of
// plain files, no server. The layout is described in package layout and
// docs/FORMAT.md; this package writes it.
//
// Writes. Each batch is one write to the active segment, one write each to
// the index and hashes files, and one fdatasync of the segment. The batch's
// last line carries the batch's checkpoint signature, so one fsync makes
// both the entries and their signature durable; Append returns only then.
// The index and hashes files are derived data: they are fsynced when a
// segment is sealed (rotation) and at Close, and rebuilt for the active
// segment when a log is opened. The checkpoint file is rewritten in the
// background, at most every 100 ms under load (and durably at Close); it
// never runs ahead of durable entries. Segments are zero-filled ahead of
// the writer (prealloc.go), which halves the cost of each fdatasync.
//
// Recovery. Opening a log for writing scans the active segment. Entries
// after the last valid batch signature were never acknowledged (Append
// returns only after the signature is durable): they, and a torn final
// line, are cut, and the cut bytes are kept in torn/ for inspection. A
// complete line that fails its checks before a later signature is not a
// crash artefact but damage, and Open refuses the log rather than cut
// acknowledged entries. A checkpoint that covers more entries than the log
// holds means entries were removed: Open refuses that too.
//
// One process writes a log at a time (flock on DIR/lock). After a failed
// write or fsync the store refuses appends until it is reopened.
package file
