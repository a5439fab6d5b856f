package server

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/store"
)

// Receipt is one receipt as POST /v1/entries returns it: verify.Receipt's
// members (seq, time, leaf_hash, checkpoint, proof), which
// verify.VerifyReceipt checks, plus the entry's stored line, from which a
// client rebuilds the leaf hash and checks that the entry holds the event
// it sent.
type Receipt struct {
	Seq        uint64           `json:"seq"`
	Time       time.Time        `json:"time"`
	LeafHash   tlog.Hash        `json:"leaf_hash"`
	Checkpoint string           `json:"checkpoint"`
	Proof      tlog.RecordProof `json:"proof"`
	Line       string           `json:"line"`
}

// AppendResponse is the JSON body of a successful POST /v1/entries.
type AppendResponse struct {
	Receipts []Receipt `json:"receipts"`
	// Consistency, present when the request's Sealog-Consistency-From
	// header named a size, proves that the tree of that size and the tree
	// of the receipts' checkpoint are one a prefix of the other.
	Consistency *ConsistencyProof `json:"consistency,omitempty"`
}

// ConsistencyProof proves that the tree of Old entries is a prefix of the
// tree of New entries (RFC 6962 consistency proof).
type ConsistencyProof struct {
	Old   uint64         `json:"old_size"`
	New   uint64         `json:"new_size"`
	Proof tlog.TreeProof `json:"proof"`
}

// batch is a run of committed entries [first, first+n) and the
// checkpoint of the batch that committed them.
type batch struct {
	first, n uint64
	ckNote   []byte
	ck       checkpoint.Checkpoint
	// Set for a fresh append, nil for a replayed one (whose lines are read
	// back): the committed events, their leaf hashes and time, and the
	// store batch's end and signature (carried by its last line).
	pending *sealog.Pending
	leaves  []tlog.Hash
	time    int64
	end     uint64
	sig     []byte
}

// receiptSet is the receipts of a batch's entries, before they are
// encoded: their lines, leaves and times, and one proof table for all
// their inclusion proofs in the batch's checkpoint.
type receiptSet struct {
	first  uint64
	note   string
	times  []int64
	leaves []tlog.Hash
	lines  []byte // the stored lines back to back, without newlines
	ends   []int  // ends[i] is the end of line i in lines
	tree   rangeTree
	read   []tlog.Hash // the leaves of a replayed append
}

// setPool holds receiptSets for reuse, each with its proof table: a
// request's receipts cost no allocation of their own once the server is
// warm.
var setPool = sync.Pool{New: func() any { return new(receiptSet) }}

// release puts rs back in the pool; rs must not be used after.
func (rs *receiptSet) release() {
	if cap(rs.lines) > 8<<20 {
		return
	}
	rs.leaves = nil
	setPool.Put(rs)
}

func (rs *receiptSet) len() int { return len(rs.leaves) }

func (rs *receiptSet) line(i int) []byte {
	start := 0
	if i > 0 {
		start = rs.ends[i-1]
	}
	return rs.lines[start:rs.ends[i]]
}

// receipt returns receipt i as a Receipt.
func (rs *receiptSet) receipt(i int) Receipt {
	seq := rs.first + uint64(i)
	return Receipt{Seq: seq, Time: time.Unix(0, rs.times[i]).UTC(), LeafHash: rs.leaves[i], Checkpoint: rs.note,
		Proof: rs.tree.proof(make(tlog.RecordProof, 0, rs.tree.proofLen(seq)), seq), Line: string(rs.line(i))}
}

// receipts builds the receipts of b's entries. A fresh append's lines
// are rebuilt from its events as the log wrote them, never read back:
// the first entry's prev is read with the proofs' stored hashes, and it
// and the last entry are checked to hash to their leaves. A replayed
// append's lines are read from the store, each checked to be the seq it
// should and hashed to its leaf. Either way the proof table's root is
// checked against the checkpoint's, which checks every proof.
func (s *Server) receipts(ctx context.Context, b batch) (*receiptSet, error) {
	rs := setPool.Get().(*receiptSet)
	rs.first, rs.note = b.first, string(b.ckNote)
	rs.times, rs.lines, rs.ends = rs.times[:0], rs.lines[:0], rs.ends[:0]
	if err := s.fillReceipts(ctx, b, rs); err != nil {
		rs.release()
		return nil, err
	}
	return rs, nil
}

func (s *Server) fillReceipts(ctx context.Context, b batch, rs *receiptSet) error {
	if b.pending == nil {
		if err := s.readReceiptLines(ctx, b, rs); err != nil {
			return err
		}
	} else {
		rs.leaves = b.leaves
	}
	if err := rs.tree.init(b.ck.Size, b.first, rs.leaves, s.log.HashReader(ctx)); err != nil {
		return fmt.Errorf("inclusion proofs: %w", err)
	}
	if rs.tree.root() != b.ck.Root {
		return fmt.Errorf("entries %d to %d: the stored tree does not match the signed checkpoint", b.first, b.first+b.n-1)
	}
	if b.pending != nil {
		return rs.buildLines(b, rs.tree.prev)
	}
	return nil
}

// buildLines writes the stored lines of a fresh append's entries.
func (rs *receiptSet) buildLines(b batch, prev tlog.Hash) error {
	n := int(b.n)
	size := 0
	for i := range n {
		_, ev := b.pending.Event(i)
		size += len(ev) + 240
	}
	rs.lines = slices.Grow(rs.lines[:0], size)
	rs.times = slices.Grow(rs.times[:0], n)
	rs.ends = slices.Grow(rs.ends[:0], n)
	for i := range n {
		seq := b.first + uint64(i)
		l := format.Line{Seq: seq, Time: b.time, Prev: prev}
		l.Salt, l.Event = b.pending.Event(i)
		if seq+1 == b.end {
			l.Sig = b.sig
		}
		if i == 0 || i == n-1 {
			if h := l.Header(); h.LeafHash() != b.leaves[i] {
				return fmt.Errorf("entry %d: its line does not hash to the leaf the log returned", seq)
			}
		}
		rs.lines = format.AppendLine(rs.lines, &l)
		rs.lines = rs.lines[:len(rs.lines)-1] // the newline
		rs.ends = append(rs.ends, len(rs.lines))
		rs.times = append(rs.times, b.time)
		prev = b.leaves[i]
	}
	return nil
}

// readReceiptLines reads a replayed append's lines and leaves.
func (s *Server) readReceiptLines(ctx context.Context, b batch, rs *receiptSet) error {
	n := int(b.n)
	rs.leaves = rs.read[:0]
	err := s.st.ReadLines(ctx, b.first, b.first+b.n, func(ln store.Line) error {
		seq := b.first + uint64(len(rs.leaves))
		l, err := format.ParseLine(ln.Bytes)
		if err != nil {
			return fmt.Errorf("entry %d: %w", seq, err)
		}
		if ln.Seq != seq || l.Seq != seq {
			return fmt.Errorf("entry %d: the store returned entry %d", seq, l.Seq)
		}
		h := l.Header()
		rs.leaves = append(rs.leaves, h.LeafHash())
		rs.times = append(rs.times, l.Time)
		rs.lines = append(rs.lines, ln.Bytes...)
		rs.ends = append(rs.ends, len(rs.lines))
		return nil
	})
	rs.read = rs.leaves
	if err == nil && len(rs.leaves) != n {
		err = fmt.Errorf("entries %d to %d: read %d of them: %w", b.first, b.first+b.n-1, len(rs.leaves), store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("reading the entries back: %w", err)
	}
	return nil
}
