//go:build unix

// Package file is sealog's embedded store: a log in one directory of
// plain files, no server. The layout is described in package layout and
// docs/FORMAT.md; this package writes it. README.md in this directory
// describes the files, the life of a batch, recovery and the locks.
//
// Writes. Each batch is one write to the active segment, one write each to
// the index and hashes files, one fdatasync of the segment, and a check
// that the segment is still the log directory's (a log removed while open
// is noticed before a batch is acknowledged). The batch's last line
// carries the batch's checkpoint signature, so one fsync makes both the
// entries and their signature durable; Append returns only then. A write
// that fails takes the batch's bytes back out of the segment. The index
// and hashes files are derived data: they are fsynced when a segment is
// sealed (rotation) and at Close, and rebuilt for the active segment when
// a log is opened. The checkpoint file is rewritten in the background
// through the durable path, at most every 100 ms under load (and at
// Close); it never runs ahead of durable entries. Segments are zero-filled
// ahead of the writer when the disk has room to spare (prealloc.go),
// which halves the cost of each fdatasync.
//
// Recovery. Opening a log for writing first reads it and decides, writing
// nothing; a refused open leaves the directory as it was. Entries after
// the last valid batch signature, a torn final line and NUL padding are
// what a crash leaves (Append returns only after the signature is
// durable): they are cut, and the cut bytes are kept in torn/ for
// inspection; after a cut of data the log goes on in a new segment, so
// that no offset that held data is written with other data. Damage that a signature covers — a line that fails its
// checks, NUL bytes, or a checkpoint file beyond what is left — is not a
// crash's doing: Open refuses the log (store.ErrCorrupt, or
// store.ErrTruncated when entries are simply missing) rather than cut
// acknowledged entries. The last batch is written again and synced, in
// case a failed fsync left it in the page cache only.
//
// One process writes a log at a time (flock on DIR/lock). After a failed
// write or fsync the store refuses appends until it is reopened.
package file
