package store

import (
	"context"
	"time"
)

// IdempotencyKeys is a store that also keeps the Idempotency-Keys of the
// service in front of the log (sealog serve, package server) where every
// server of the log sees them, so that a retry sent to another server
// gets the first request's entries, never a second copy. store/postgres
// implements it, in a table of the log's schema.
//
// A key is claimed by one server for one request, then settled with the
// entries the request got, or released if it got none. A claim whose
// server died before settling it is found stale by its age and settled
// by looking for its events in the log (package server does that).
type IdempotencyKeys interface {
	// ClaimKey records r under key unless key is recorded already. It
	// returns r and true if this call claimed it, or the record found and
	// false.
	ClaimKey(ctx context.Context, key string, r KeyRecord) (KeyRecord, bool, error)
	// ReclaimKey replaces key's unsettled claim made at old by r, and
	// reports whether it did (false: someone settled, released or
	// reclaimed it first).
	ReclaimKey(ctx context.Context, key string, old time.Time, r KeyRecord) (bool, error)
	// SettleKey records that key's request got entries [first,
	// first+r.N), proven by the checkpoint of size entries.
	SettleKey(ctx context.Context, key string, first, size uint64) error
	// ReleaseKey deletes key's unsettled claim made at claimed: its
	// request appended nothing.
	ReleaseKey(ctx context.Context, key string, claimed time.Time) error
	// ExpireKeys deletes the keys claimed before before, and returns how
	// many it deleted.
	ExpireKeys(ctx context.Context, before time.Time) (int64, error)
}

// KeyRecord is what IdempotencyKeys holds for one key.
type KeyRecord struct {
	// Request is the digest of the request's events, Head that of its
	// first event (package server's digest).
	Request, Head string
	// N is the number of events; From the log's size when it was claimed
	// (its entries, if any, lie at or after it).
	N, From uint64
	// Claimed is when the key was claimed (stores may keep it to the
	// microsecond only, and return it so).
	Claimed time.Time
	// Settled says the request's entries are known: First is the seq of
	// the first, Size the size of the checkpoint that proves them.
	Settled     bool
	First, Size uint64
}
