package main

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/tree"
	"github.com/sealog/sealog/verify"
)

// incremental verifies the log l from the saved checkpoint on, reading
// only the entries added since: the tree's right edge at the saved size
// is read from the stored hashes and must hash to the saved root (so the
// entries it covers are the saved ones, whatever the files say now); the
// new entries are parsed and hashed from their stored lines, chained from
// the saved last entry, and with that edge must give the root of the
// log's current checkpoint, whose signature must verify with v.
//
// It never accuses: whenever something does not add up (a rollback, a
// fork, damaged tree hashes, a line that does not parse, an erased entry
// whose record is not among the new ones) it returns ok false with the
// reason, and the caller verifies the whole log, whose verdict is the
// one that counts.
func incremental(ctx context.Context, l *sealog.Log, v note.Verifier, vkey string, saved *stateFile) (rep *verify.Report, cur []byte, why string, ok bool) {
	st := l.Store()
	hr := store.HashReader(ctx, st)
	h, err := st.Head(ctx)
	if err != nil {
		return nil, nil, fmt.Sprintf("reading the log's head: %v", err), false
	}
	c, _, err := checkpoint.Verify(h.Checkpoint, v, v.Name())
	switch {
	case err != nil:
		return nil, nil, fmt.Sprintf("the log's checkpoint does not verify: %v", err), false
	case c.Size < saved.Size:
		return nil, nil, fmt.Sprintf("the log's checkpoint (size %d) is smaller than the saved one (size %d)", c.Size, saved.Size), false
	case c.Size == saved.Size && c.Root != saved.Root:
		return nil, nil, "the log's checkpoint has the saved size but another root", false
	}
	edge, err := tree.Load(saved.Size, hr)
	if err != nil || edge.Root() != saved.Root {
		return nil, nil, "the stored tree hashes at the saved size do not give the saved root", false
	}
	// The saved last entry: its leaf hash and time start the chain.
	last, err := st.ReadLine(ctx, saved.Size-1)
	if err != nil {
		return nil, nil, fmt.Sprintf("reading entry %d: %v", saved.Size-1, err), false
	}
	ln, err := format.ParseLine(last.Bytes)
	if err != nil {
		return nil, nil, fmt.Sprintf("entry %d: %v", saved.Size-1, err), false
	}
	lh := ln.Header()
	prevLeaf := lh.LeafHash()
	prevTime := ln.Time
	if p, err := tlog.ProveRecord(int64(saved.Size), int64(saved.Size-1), hr); err != nil ||
		tlog.CheckRecord(p, int64(saved.Size), saved.Root, int64(saved.Size-1), prevLeaf) != nil {
		return nil, nil, fmt.Sprintf("entry %d is not the one the saved checkpoint covers", saved.Size-1), false
	}
	rep = &verify.Report{Origin: c.Origin, Key: vkey, Problems: []verify.Problem{}, Gaps: []verify.Gap{},
		Warnings: []string{}, ErasedEntries: []verify.ErasedEntry{}}
	pending := map[uint64]format.Hash{} // new erased entries awaiting their record
	var firstTime int64
	next := saved.Size
	err = st.ReadLines(ctx, saved.Size, c.Size, func(sl store.Line) error {
		ln, err := format.ParseLine(sl.Bytes)
		switch {
		case err != nil:
			return fmt.Errorf("entry %d: %v", next, err)
		case ln.Seq != next:
			return fmt.Errorf("the line where entry %d belongs says seq %d", next, ln.Seq)
		case ln.Prev != prevLeaf:
			return fmt.Errorf("entry %d does not chain to entry %d", next, next-1)
		case ln.Time < prevTime:
			return fmt.Errorf("entry %d's time is earlier than entry %d's", next, next-1)
		}
		if next == saved.Size {
			firstTime = ln.Time
		}
		hd := ln.Header()
		leaf := hd.LeafHash()
		edge.Append(leaf, nil)
		switch {
		case ln.Erased:
			pending[ln.Seq] = hd.BodyHash
			rep.ErasuresUnchecked++
		default:
			if r, isRec := format.ParseErasure(ln.Event); isRec && r.Seq < ln.Seq {
				if err := erasedBy(ctx, st, r, ln.Seq, pending, rep); err != nil {
					return err
				}
			}
		}
		prevLeaf, prevTime = leaf, ln.Time
		rep.Bytes += int64(len(sl.Bytes)) + 1
		next++
		return nil
	})
	switch {
	case err != nil:
		return nil, nil, err.Error(), false
	case next != c.Size:
		return nil, nil, fmt.Sprintf("read %d entries, the checkpoint covers %d", next, c.Size), false
	case edge.Root() != c.Root:
		return nil, nil, fmt.Sprintf("the entries from %d to %d do not give the root of the log's checkpoint", saved.Size, c.Size-1), false
	case len(pending) > 0:
		return nil, nil, "an erased entry among the new ones has no erasure record after it", false
	}
	rep.ErasuresUnchecked = 0
	rep.Valid, rep.Verdict, rep.ChainIntact = true, verify.VerdictValid, true
	rep.Entries = c.Size - saved.Size
	rep.Authenticated = c.Size
	rep.Signatures = 1
	rep.Erased = len(rep.ErasedEntries)
	rep.Checkpoint = &verify.CheckpointInfo{Source: "log", Size: c.Size, Root: c.Root, Status: "ok"}
	rep.Trusted = []verify.CheckpointInfo{{Source: "state file", Size: saved.Size, Root: saved.Root, Status: "ok"}}
	rep.TruncationChecked, rep.TruncationCheckedTo = true, saved.Size
	if rep.Entries > 0 {
		rep.FirstTime, rep.LastTime = fmtTime(firstTime), fmtTime(prevTime)
	}
	rep.Warnings = append(rep.Warnings, fmt.Sprintf("incremental: entries 0 to %d were not read again; the saved checkpoint proves the tree that covers them is unchanged (--full reads them)", saved.Size-1))
	return rep, h.Checkpoint, "", true
}

// erasedBy notes the erasure record at seq naming r: a new erased entry
// it licenses, or an older entry, which is read to check that it is in
// its erased form with that body hash.
//
// An entry older than the saved checkpoint is not checked against the
// tree here (its line may have been changed since: only --full reads
// every line again).
func erasedBy(ctx context.Context, st store.Store, r format.Erasure, seq uint64, pending map[uint64]format.Hash, rep *verify.Report) error {
	if h, ok := pending[r.Seq]; ok {
		if h == r.BodyHash {
			delete(pending, r.Seq)
			rep.ErasuresUnchecked--
			rep.ErasedEntries = append(rep.ErasedEntries, verify.ErasedEntry{Seq: r.Seq, Record: seq})
		}
		return nil
	}
	sl, err := st.ReadLine(ctx, r.Seq)
	if err != nil {
		return fmt.Errorf("entry %d, named by the erasure record %d: %v", r.Seq, seq, err)
	}
	ln, err := format.ParseLine(sl.Bytes)
	if err != nil {
		return fmt.Errorf("entry %d: %v", r.Seq, err)
	}
	if ln.Seq != r.Seq {
		return fmt.Errorf("the line of entry %d says seq %d", r.Seq, ln.Seq)
	}
	switch {
	case ln.Erased && ln.BodyHash == r.BodyHash:
		rep.ErasedEntries = append(rep.ErasedEntries, verify.ErasedEntry{Seq: r.Seq, Record: seq})
	case ln.Erased:
		return fmt.Errorf("entry %d is erased, but not with the body hash its erasure record %d names", r.Seq, seq)
	default:
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("the erasure record %d names entry %d, which is not in its erased form (an erasure not finished yet)", seq, r.Seq))
	}
	return nil
}

// fmtTime formats an entry time (Unix nanoseconds) as the verifier does.
func fmtTime(ns int64) string {
	return time.Unix(0, ns).UTC().Format("2006-01-02T15:04:05.000000000Z07:00")
}
