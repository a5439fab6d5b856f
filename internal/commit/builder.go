package commit

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/tree"
)

// state is the log's tree state after its last entry: what the next batch
// builds on.
type state struct {
	edge     tree.Edge
	last     tlog.Hash
	lastTime int64
	signer   note.Signer // signs the next batch: the key in effect after the last entry
}

func (s *state) size() uint64 { return s.edge.Size() }

func (s *state) copyFrom(o *state) {
	s.edge.CopyFrom(&o.edge)
	s.last, s.lastTime, s.signer = o.last, o.lastTime, o.signer
}

// same reports whether two states are the same tree (size and last leaf,
// which commits to every entry before it through the chain).
func (s *state) same(o *state) bool {
	return s.size() == o.size() && s.last == o.last
}

// builder builds one batch from a base state: it assigns each request's
// events their seq and time, computes leaves, stored hashes and lines, and
// finally signs the checkpoint. Salt, event bytes and body hash do not
// depend on position, so the same requests can be rebuilt on another base
// after a conflict.
type builder struct {
	base    state // the state the batch starts from
	cur     state // the state after the requests added so far
	b       store.Batch
	reqs    []*request
	entries int
	scratch []tlog.Hash
}

// reset starts an empty batch on base.
func (bd *builder) reset(base *state) {
	bd.base.copyFrom(base)
	bd.cur.copyFrom(base)
	bd.b = store.Batch{First: base.size(), Lines: bd.b.Lines[:0], Ends: bd.b.Ends[:0], Leaves: bd.b.Leaves[:0], Hashes: bd.b.Hashes[:0]}
	bd.reqs = bd.reqs[:0]
	bd.entries = 0
}

// rebuild rebuilds the batch's requests on another base, stamping them
// with now.
func (bd *builder) rebuild(base *state, now time.Time) {
	reqs := append([]*request(nil), bd.reqs...)
	bd.reset(base)
	for _, r := range reqs {
		bd.add(r, now)
	}
}

// add folds a request into the batch at time now (never before the last
// entry's time: time never decreases in a log).
func (bd *builder) add(r *request, now time.Time) {
	t := max(now.UnixNano(), bd.cur.lastTime)
	r.first, r.time = bd.cur.size(), t
	r.leaves = r.leaves[:0]
	b := &bd.b
	for i := range r.evs {
		ev := &r.evs[i]
		seq := bd.cur.size()
		h := format.Header{Seq: seq, Time: t, Prev: bd.cur.last, BodyHash: ev.Body}
		leaf := h.LeafHash()
		bd.scratch = bd.cur.edge.Append(leaf, bd.scratch[:0])
		b.Hashes = append(b.Hashes, bd.scratch...)
		line := format.Line{Seq: seq, Time: t, Prev: bd.cur.last, Salt: ev.Salt, Event: ev.Event}
		b.Lines = format.AppendLine(b.Lines, &line)
		b.Ends = append(b.Ends, len(b.Lines))
		b.Leaves = append(b.Leaves, leaf)
		r.leaves = append(r.leaves, leaf)
		bd.cur.last = leaf
	}
	bd.cur.lastTime = t
	if r.rotate != nil {
		bd.cur.signer = r.rotate // every later batch (docs/FORMAT.md section 5a)
	}
	bd.entries += len(r.evs)
	bd.reqs = append(bd.reqs, r)
	if r.erase != nil {
		b.Erasures = append(b.Erasures, *r.erase)
	}
}

// sign signs the checkpoint of the tree after the batch with the key in
// effect at its start (a rotation record in the batch hands over only
// after it) and puts the signature on the batch's last line. On error
// nothing changed.
func (bd *builder) sign(origin string) error {
	b := &bd.b
	signer := bd.base.signer
	text := checkpoint.Checkpoint{Origin: origin, Size: bd.cur.size(), Root: bd.cur.edge.Root()}.Text()
	sig, err := checkpoint.SignText(text, signer)
	if err != nil {
		return fmt.Errorf("signing the checkpoint: %w", err)
	}
	lines := b.Lines[:len(b.Lines)-2] // drop the last line's "}\n"
	lines = format.AppendSig(lines, sig)
	b.Lines = append(lines, '}', '\n')
	b.Ends[len(b.Ends)-1] = len(b.Lines)
	b.Checkpoint = checkpoint.Assemble(text, origin, sig)
	b.LastTime = bd.cur.lastTime
	return nil
}

// loadState reads the committed state from the store: head, tree edge,
// and which of the known signers signs the next batch.
func loadState(ctx context.Context, st store.Store, signers []note.Signer) (state, error) {
	h, err := st.Head(ctx)
	if err != nil {
		return state{}, fmt.Errorf("reading the head: %w", err)
	}
	edge, err := tree.Load(h.Size, store.HashReader(ctx, st))
	if err != nil {
		return state{}, fmt.Errorf("loading the tree at size %d: %w", h.Size, err)
	}
	signer, err := nextSigner(ctx, st, h, signers)
	if err != nil {
		return state{}, err
	}
	return state{edge: edge, last: h.LastLeaf, lastTime: h.LastTime, signer: signer}, nil
}

// nextSigner finds the signer for the batch after head h among the known
// ones: the key named by a rotation record that ends the log, or else the
// key that signed the head's checkpoint (the newest known one for an
// empty log). Another key means another writer rotated the log's key.
func nextSigner(ctx context.Context, st store.Store, h store.Head, signers []note.Signer) (note.Signer, error) {
	newest := signers[len(signers)-1]
	if h.Size == 0 {
		return newest, nil
	}
	want := uint32(0)
	if ln, err := st.ReadLine(ctx, h.Size-1); err != nil {
		return nil, fmt.Errorf("reading the last entry: %w", err)
	} else if l, err := format.ParseLine(ln.Bytes); err == nil && !l.Erased {
		if r, ok := format.ParseRotation(l.Event); ok {
			v, err := note.NewVerifier(r.Key)
			if err != nil {
				return nil, fmt.Errorf("the rotation record ending the log names a malformed key: %v", err)
			}
			want = v.KeyHash()
		}
	}
	if want == 0 {
		k, ok := checkpoint.SignerKeyHash(h.Checkpoint, newest.Name())
		if !ok {
			return nil, fmt.Errorf("the head's checkpoint carries no signature of origin %q", newest.Name())
		}
		want = k
	}
	for i := len(signers) - 1; i >= 0; i-- {
		if signers[i].KeyHash() == want {
			return signers[i], nil
		}
	}
	return nil, fmt.Errorf("%w (the next batch must be signed by key hash %08x)", ErrKeyRotated, want)
}
