package store

import "context"

// Finder is a Store that finds entries by the query columns it keeps
// beside each line (kind, actor, resource, time) with indexes:
// store/postgres and store/sqlite. What Find returns is untrusted, like
// everything a store returns, and can also be incomplete (a query column
// changed behind the store's back hides its entry from Find, and changes
// no line, so a verifier never sees it): sealog.Log.Query reads each
// entry Find names, checks it, and checks it against the query; a query
// that must be complete scans the lines instead.
type Finder interface {
	// Find calls fn with the seq of each committed entry below the head's
	// size that matches q, in ascending order, until fn returns an error
	// (which Find returns) or q.Limit seqs were given.
	Find(ctx context.Context, q Query, fn func(seq uint64) error) error
}

// Query selects entries by their query columns. Zero fields match
// everything.
type Query struct {
	Kind, Actor, Resource string // exact matches
	// Since and Until bound the entry's time (Unix ns): Since <= time <
	// Until. 0 is no bound.
	Since, Until int64
	From         uint64 // seq >= From
	Limit        int    // at most Limit seqs; 0 means no limit
}
