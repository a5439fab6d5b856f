// Package compat verifies, and reads for import, audit logs written by three
// other tools: Spine WAL v1 directories (spine-sdk-python), spanforge audit
// chains (JSONL signed with HMAC-SHA256) and immutable-logging log files
// with their .integrity sidecars.
//
// Verify follows the rules in testdata/compat/README.md exactly, and is
// stricter than the tools' own verifiers where they have blind spots: it
// reads Spine's chain_state.json (tail truncation), never trusts a Spine
// record's embedded public key, ignores Spine side files that are not
// segments, splits spanforge and immutable-logging files on '\n' only (so
// U+2028, U+2029, NEL and \v inside a line are ordinary characters), checks
// immutable-logging's entry numbers, and verifies rotated immutable-logging
// sets pair by pair. Every Report also says what the format cannot protect
// (Warnings, UnprotectedFields, Notes); an Anchor recorded outside the log
// makes truncation and wholesale rewrites detectable.
//
// Hash inputs are rebuilt with an exact JSON parser and serialiser shaped
// after Python's json module: integers of any size stay exact, 1000 and
// 1000.0 stay different, floats print as Python's repr, NaN and Infinity
// literals are read, strings use Python's escaping table, keys sort by code
// point and the last of duplicated keys wins.
//
// Verify and Walk stream the input with flat memory: one goroutine reads
// lines, workers parse and hash batches of lines on every core, and the
// checks that link a record to the one before run in file order.
package compat
