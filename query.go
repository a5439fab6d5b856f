package sealog

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"time"

	"github.com/sealog/sealog/store"
)

// Query selects entries. Zero fields match everything.
type Query struct {
	// Kind, Actor and Resource match exactly. An erased entry has none of
	// them, so a query that gives one never returns an erased entry.
	Kind, Actor, Resource string
	// Since and Until bound the entry's time: Since <= time < Until.
	Since, Until time.Time
	// From is the first seq to consider.
	From uint64
	// Limit caps the entries returned; 0 means no limit.
	Limit int
}

func (q *Query) match(e *Entry) bool {
	if (q.Kind != "" || q.Actor != "" || q.Resource != "") && e.Erased {
		return false
	}
	return (q.Kind == "" || e.Kind == q.Kind) && (q.Actor == "" || e.Actor == q.Actor) &&
		(q.Resource == "" || e.Resource == q.Resource) &&
		(q.Since.IsZero() || !e.Time.Before(q.Since)) && (q.Until.IsZero() || e.Time.Before(q.Until))
}

// Query iterates over the entries that match q, in seq order, each
// checked as Entry checks it. Over a store that keeps indexes
// (store.Finder: PostgreSQL, SQLite) it reads only the entries the
// indexes name, and checks each against q once read: a store whose query
// columns disagree with a line is an error wrapping ErrCorrupt. Indexes
// cannot show an entry whose columns were changed to hide it; Scan makes
// Query read every line instead, as it does over other stores. It stops
// at the first error, which it yields.
func (l *Log) Query(ctx context.Context, q Query) iter.Seq2[Entry, error] {
	return l.query(ctx, q, false)
}

// Scan is Query reading every line from q.From on (bounded by q.Until),
// whatever indexes the store has: the complete answer, at the cost of a
// full read.
func (l *Log) Scan(ctx context.Context, q Query) iter.Seq2[Entry, error] {
	return l.query(ctx, q, true)
}

func (l *Log) query(ctx context.Context, q Query, scan bool) iter.Seq2[Entry, error] {
	f, indexed := l.st.(store.Finder)
	if scan || !indexed {
		return func(yield func(Entry, error) bool) {
			n := 0
			first, err := l.FirstSeq(ctx) // a pruned log holds nothing below its prune point
			if err != nil {
				yield(Entry{}, err)
				return
			}
			for e, err := range l.Entries(ctx, max(q.From, first), math.MaxUint64) {
				if err != nil {
					yield(Entry{}, err)
					return
				}
				if !q.Until.IsZero() && !e.Time.Before(q.Until) {
					return // times never decrease
				}
				if !q.match(&e) {
					continue
				}
				if !yield(e, nil) {
					return
				}
				if n++; q.Limit > 0 && n >= q.Limit {
					return
				}
			}
		}
	}
	sq := store.Query{Kind: q.Kind, Actor: q.Actor, Resource: q.Resource, From: q.From, Limit: q.Limit}
	if !q.Since.IsZero() {
		sq.Since = max(q.Since.UnixNano(), 1)
	}
	if !q.Until.IsZero() {
		sq.Until = max(q.Until.UnixNano(), 1)
	}
	return func(yield func(Entry, error) bool) {
		// One head for the whole query: every entry is proven against its
		// checkpoint, and entries appended meanwhile are not part of it.
		h, err := l.Head(ctx)
		if err != nil {
			yield(Entry{}, err)
			return
		}
		stop := errors.New("stop")
		err = f.Find(ctx, sq, func(seq uint64) error {
			if seq >= h.Size {
				return stop
			}
			line, err := l.st.ReadLine(ctx, seq)
			if err != nil {
				return err
			}
			e, err := l.decode(ctx, h.Checkpoint, line.Seq, line.Bytes)
			if err != nil {
				return err
			}
			if !q.match(&e) {
				if e.Erased {
					return nil // erased after its columns were written
				}
				return fmt.Errorf("sealog: entry %d: %w: the store's index names it for %s, but its line is kind %q, actor %q, resource %q, time %s",
					seq, ErrCorrupt, q.describe(), e.Kind, e.Actor, e.Resource, e.Time.Format(time.RFC3339Nano))
			}
			if !yield(e, nil) {
				return stop
			}
			return nil
		})
		if err != nil && err != stop {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNotFound) {
				err = fmt.Errorf("sealog: %w", err)
			}
			yield(Entry{}, err)
		}
	}
}

// describe says what q selects, for messages.
func (q *Query) describe() string {
	s := ""
	add := func(k, v string) {
		if s != "" {
			s += ", "
		}
		s += k + " " + v
	}
	if q.Kind != "" {
		add("kind", fmt.Sprintf("%q", q.Kind))
	}
	if q.Actor != "" {
		add("actor", fmt.Sprintf("%q", q.Actor))
	}
	if q.Resource != "" {
		add("resource", fmt.Sprintf("%q", q.Resource))
	}
	if !q.Since.IsZero() {
		add("since", q.Since.Format(time.RFC3339Nano))
	}
	if !q.Until.IsZero() {
		add("until", q.Until.Format(time.RFC3339Nano))
	}
	if s == "" {
		return "every entry"
	}
	return s
}
