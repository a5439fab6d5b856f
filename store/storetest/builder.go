package storetest

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/tree"
)

// EventKind is the kind of the events a Builder makes; EraseKind that of
// its erasure records, as the Log writes them.
const (
	EventKind = "storetest.event"
	EraseKind = "sealog.erase"
)

// Builder makes valid, signed batches as the Log would: entries chained by
// prev, their leaves and the tree's stored hashes, and a checkpoint signed
// with Key whose signature the batch's last line carries.
//
// A Builder builds on its own head, which each batch advances as though it
// were committed. Load moves it to a store's head instead, and Retry
// rebuilds the last batch's events there, as a Log re-sequences its events
// after a *store.ConflictError. Each Builder names a writer, which its
// events carry (as actor, and in the resource "writer/i" of its i-th
// event) and which seeds its salts, so two writers never make the same
// line. A Builder is not safe for concurrent use.
type Builder struct {
	signer note.Signer
	writer string
	salt   *seededReader
	events int // events made so far, for their resources

	edge     tree.Edge
	last     tlog.Hash // leaf hash of the last entry
	lastTime int64     // time of the last entry
	next     int64     // time of the next entry
	ckpt     []byte    // checkpoint at edge.Size()

	pending  []event         // the last batch's events, for Retry
	erasures []store.Erasure // the last batch's erasures, for Retry
}

// event is what an entry records.
type event struct {
	kind, resource string
	payload        []byte
}

// startTime is the time of a log's first entry; entries are timeStep apart.
const (
	startTime = 1_800_000_000_000_000_000
	timeStep  = 1000
)

// NewBuilder returns a builder for writer on a new, empty log.
func NewBuilder(writer string) *Builder {
	s, _ := keys()
	return &Builder{signer: s, writer: writer, salt: seeded("storetest salts " + writer), next: startTime}
}

// Clone returns an independent copy of b, which makes the same batches.
func (b *Builder) Clone() *Builder {
	c := *b
	c.salt = b.salt.clone()
	c.edge = b.edge.Clone()
	return &c
}

// Head returns the head after the batches b made: what a store holds once
// they are committed.
func (b *Builder) Head() store.Head {
	return store.Head{Size: b.edge.Size(), LastLeaf: b.last, LastTime: b.lastTime, Checkpoint: bytes.Clone(b.ckpt)}
}

// Root returns the root hash of the tree at b's head.
func (b *Builder) Root() tlog.Hash { return b.edge.Root() }

// Batch returns a batch of n new events at b's head, and moves the head
// past it.
func (b *Builder) Batch(n int) *store.Batch {
	evs := make([]event, n)
	for i := range evs {
		evs[i] = event{EventKind, fmt.Sprintf("%s/%d", b.writer, b.events), fmt.Appendf(nil, `{"i":%d}`, b.events)}
		b.events++
	}
	return b.build(evs, nil)
}

// EraseBatch returns a batch at b's head that records each erasure in an
// event of kind EraseKind and carries the erasures.
func (b *Builder) EraseBatch(erasures ...store.Erasure) *store.Batch {
	evs := make([]event, len(erasures))
	for i, e := range erasures {
		evs[i] = event{EraseKind, fmt.Sprintf("entry/%d", e.Seq), fmt.Appendf(nil, `{"reason":"storetest","seq":%d}`, e.Seq)}
	}
	return b.build(evs, erasures)
}

// Retry moves b to s's head (Load) and rebuilds there the events and
// erasures of the last batch b made.
func (b *Builder) Retry(ctx context.Context, s store.Store) (*store.Batch, error) {
	if err := b.Load(ctx, s); err != nil {
		return nil, err
	}
	return b.build(b.pending, b.erasures), nil
}

// Load moves b to s's committed head, reading the tree's right edge from
// s's stored hashes, and checks that they match its signed checkpoint.
func (b *Builder) Load(ctx context.Context, s store.Store) error {
	h, err := s.Head(ctx)
	if err != nil {
		return err
	}
	edge, err := tree.Load(h.Size, store.HashReader(ctx, s))
	if err != nil {
		return fmt.Errorf("storetest: loading the tree edge at %d: %w", h.Size, err)
	}
	if h.Size > 0 {
		c, _, err := checkpoint.Open(h.Checkpoint, verifiers(), Origin)
		if err != nil {
			return fmt.Errorf("storetest: the head's checkpoint: %w", err)
		}
		if c.Size != h.Size || c.Root != edge.Root() {
			return fmt.Errorf("storetest: the head's checkpoint is for size %d, root %x; the store's hashes give size %d, root %x", c.Size, c.Root, h.Size, edge.Root())
		}
	}
	b.edge, b.last, b.lastTime, b.ckpt = edge, h.LastLeaf, h.LastTime, bytes.Clone(h.Checkpoint)
	b.next = max(b.next, h.LastTime+timeStep)
	return nil
}

// build sequences evs at b's head and advances the head past them.
func (b *Builder) build(evs []event, erasures []store.Erasure) *store.Batch {
	b.pending, b.erasures = evs, erasures
	batch := &store.Batch{First: b.edge.Size(), Erasures: slices.Clone(erasures)}
	for i, ev := range evs {
		var salt [format.SaltSize]byte
		b.salt.Read(salt[:])
		body, err := format.AppendEvent(nil, ev.kind, b.writer, ev.resource, ev.payload)
		if err != nil {
			panic(err)
		}
		l := format.Line{Seq: b.edge.Size(), Time: b.next, Prev: b.last, Salt: salt, Event: body}
		h := l.Header()
		leaf := h.LeafHash()
		batch.Hashes = b.edge.Append(leaf, batch.Hashes)
		batch.Leaves = append(batch.Leaves, leaf)
		if i == len(evs)-1 {
			text := checkpoint.Checkpoint{Origin: Origin, Size: b.edge.Size(), Root: b.edge.Root()}.Text()
			sig, err := checkpoint.SignText(text, b.signer)
			if err != nil {
				panic(err)
			}
			l.Sig = sig
			b.ckpt = checkpoint.Assemble(text, Origin, sig)
		}
		batch.Lines = format.AppendLine(batch.Lines, &l)
		batch.Ends = append(batch.Ends, len(batch.Lines))
		b.last, b.lastTime = leaf, b.next
		b.next += timeStep
	}
	batch.Checkpoint, batch.LastTime = bytes.Clone(b.ckpt), b.lastTime
	return batch
}

// Erased returns the erasure of stored entry l: its line in the erased
// form, with the same seq, time, prev, body commitment and signature.
func Erased(l store.Line) (store.Erasure, error) {
	p, err := format.ParseLine(l.Bytes)
	if err != nil {
		return store.Erasure{}, fmt.Errorf("storetest: entry %d: %w", l.Seq, err)
	}
	e := format.Line{Seq: p.Seq, Time: p.Time, Prev: p.Prev, Erased: true, BodyHash: p.ComputeBodyHash(), Sig: p.Sig}
	return store.Erasure{Seq: l.Seq, Line: format.AppendLine(nil, &e)}, nil
}
