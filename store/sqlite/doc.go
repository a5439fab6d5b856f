// Package sqlite is a sealog store in one SQLite database file (WAL mode,
// synchronous=FULL), through modernc.org/sqlite: no cgo, no server. Several
// processes may append to one file at once; each Append is one BEGIN
// IMMEDIATE transaction, conditional on the head. See README.md for the
// schema.
package sqlite
