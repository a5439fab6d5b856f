package verify

import (
	"fmt"
	"sort"

	"github.com/sealog/sealog/format"
)

// erasures checks that every erased entry is one the writer erased: that
// a live erasure record later in the log, covered by a verified signature,
// names it (its seq and body hash; docs/FORMAT.md section 5). Anyone who
// can write the files can put an entry in its erased form (the leaf hash
// does not change), so an erased entry without its record is tampering.
//
// The record comes after the entry it names, so the verifier keeps the
// erased entries still waiting for their record (pending), and those whose
// record it has seen (licensed) together with the record's seq: whether the
// record is covered by a verified signature is known only at the end. That
// is at most 48 bytes per erased entry, and at most Options.MaxErased
// entries; beyond that the log cannot be checked in memory and is not
// reported valid.
type erasures struct {
	max      int
	pending  map[uint64]pendingErasure
	licensed []licensed // in the order the records came, so by record seq
	over     uint64     // erased entries beyond max, not tracked
	overAt   *place
	count    uint64 // erased entries seen
	orphans  uint64 // records naming a live entry (an erasure in progress)
	orphanAt []uint64
}

type pendingErasure struct {
	hash format.Hash
	at   place
}

type licensed struct {
	seq, record uint64
	at          place
}

func newErasures(max int) *erasures {
	return &erasures{max: max, pending: map[uint64]pendingErasure{}}
}

func (e *erasures) tracked() int { return len(e.pending) + len(e.licensed) }

// erased notes an erased entry.
func (e *erasures) erased(seq uint64, h format.Hash, at place) {
	e.count++
	if e.tracked() >= e.max {
		e.over++
		if e.overAt == nil {
			a := at
			e.overAt = &a
		}
		return
	}
	e.pending[seq] = pendingErasure{hash: h, at: at}
}

// record notes an erasure record, entry seq, naming r.
func (e *erasures) record(seq uint64, r format.Erasure) {
	if r.Seq >= seq {
		return // names itself or a later entry: names nothing
	}
	p, ok := e.pending[r.Seq]
	if !ok || p.hash != r.BodyHash {
		if len(e.orphanAt) < 16 {
			e.orphanAt = append(e.orphanAt, r.Seq)
		}
		e.orphans++
		return
	}
	delete(e.pending, r.Seq)
	e.licensed = append(e.licensed, licensed{seq: r.Seq, record: seq, at: p.at})
}

// conclude reports, once the authenticated prefix is known (entries
// 0..auth-1), every erased entry without an authenticated record as a
// forged erasure, and counts the legitimate ones. When no signature could
// be checked with the key (checkable false: the wrong key), or the log is
// damaged elsewhere (its record may be hidden in the damage, or beyond
// what can be authenticated), an erased entry without an authenticated
// record cannot be judged: it is counted unchecked, not held against the
// log, which is already not valid.
func (e *erasures) conclude(c *checker, auth uint64, checkable bool) {
	rep := c.rep
	c.firstInvalid()
	checkable = checkable && rep.FirstInvalid == nil
	var forged []licensed
	for seq, p := range e.pending {
		forged = append(forged, licensed{seq: seq, at: p.at})
	}
	sort.Slice(forged, func(i, j int) bool { return forged[i].seq < forged[j].seq })
	for _, f := range forged {
		if !checkable {
			rep.ErasuresUnchecked++
			continue
		}
		rep.ForgedErasures++
		c.changed(f.seq, "erasure", f.at, fmt.Sprintf("entry %d is in its erased form, but no erasure record names it (seq and body hash): its content was removed without an erasure", f.seq))
	}
	for _, l := range e.licensed {
		if l.record < auth {
			rep.Erased++
			rep.ErasedEntries = append(rep.ErasedEntries, ErasedEntry{Seq: l.seq, Record: l.record})
			continue
		}
		if !checkable {
			rep.ErasuresUnchecked++
			continue
		}
		rep.ForgedErasures++
		c.changed(l.seq, "erasure", l.at, fmt.Sprintf("entry %d is in its erased form, and the erasure record naming it (entry %d) is not covered by a verified signature", l.seq, l.record))
	}
	if e.over > 0 {
		rep.ErasuresUnchecked += int(e.over)
		c.problem(nil, "limit", e.overAt, fmt.Sprintf("the log holds more than %d erased entries (Options.MaxErased): %d of them could not be checked against their erasure records", e.max, e.over))
	}
	if e.orphans > 0 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("%d erasure record(s) name an entry that is not in its erased form (first: entry %d): an erasure not finished yet, or finished by the writer's next open", e.orphans, e.orphanAt[0]))
	}
}
