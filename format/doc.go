// Package format is sealog's on-disk format v1 in code: the leaf header and
// its hash, the salted body commitment, the canonical time text, and the
// exact byte layout of a segment line. docs/FORMAT.md is the specification;
// this package and testdata/vectors must agree with it.
//
// Everything here is a pure function over bytes: no I/O, no goroutines, no
// global state. Verification never re-serialises JSON: the hashed bytes are
// recovered from a stored line exactly, so a line is accepted only in its one
// canonical form.
//
// A live entry is stored as
//
//	{"seq":7,"time":"2026-11-21T08:42:13.000000000Z","prev":"<64 hex>","salt":"<32 hex>","event":{"kind":"user.login","payload":{}}}
//
// where the event value is hashed as it stands:
//
//	body_hash = SHA-256(salt || event bytes)
//	leaf      = SHA-256(0x00 || header)          (RFC 6962 leaf hash)
//	header    = version(1) || seq(8, BE) || time(8, BE) || prev(32) || body_hash(32)
package format
