package sealog

import (
	"context"
	"fmt"
	"unicode/utf8"

	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/internal/commit"
	"github.com/sealog/sealog/store"
)

// EraseKind is the kind of the event that records an erasure.
const EraseKind = "sealog.erase"

// Erase removes the content of entry seq, for example to honour a GDPR
// erasure request: its kind, actor, resource and payload, and the salt
// that would let anyone confirm a guess of them. Its header and body
// commitment stay, so the chain, the tree and every signature still
// verify, and verifiers count the entry as erased.
//
// The erasure is recorded as an event of kind EraseKind whose payload
// names the entry, its body hash and the reason, committed together with
// the erasure itself: either both happen or neither does, and of two
// concurrent erasures of one entry only one succeeds (the other gets
// ErrErased). Erase returns the record's receipt. An erasure record
// cannot itself be erased: verifiers accept an erased entry only when a
// record names it.
func (l *Log) Erase(ctx context.Context, seq uint64, reason string) (Receipt, error) {
	return l.EraseFor(ctx, seq, "", reason)
}

// EraseFor is Erase with the erasure record naming who asked for the
// erasure (requestedBy, the record's actor; empty for none) as well as
// why.
func (l *Log) EraseFor(ctx context.Context, seq uint64, requestedBy, reason string) (Receipt, error) {
	if l.eng == nil {
		return Receipt{}, ErrReadOnly
	}
	if !utf8.ValidString(reason) {
		return Receipt{}, fmt.Errorf("sealog: erasing entry %d: the reason is not valid UTF-8", seq)
	}
	if !utf8.ValidString(requestedBy) {
		return Receipt{}, fmt.Errorf("sealog: erasing entry %d: who asked is not valid UTF-8", seq)
	}
	e, err := l.Entry(ctx, seq)
	if err != nil {
		return Receipt{}, err
	}
	if e.Erased {
		return Receipt{}, fmt.Errorf("sealog: entry %d: %w", seq, ErrErased)
	}
	if e.Kind == EraseKind {
		return Receipt{}, fmt.Errorf("sealog: entry %d records an erasure, and erasure records cannot be erased", seq)
	}
	if e.Kind == RotateKind {
		return Receipt{}, fmt.Errorf("sealog: entry %d records a key rotation, and rotation records cannot be erased (the chain of keys rests on them)", seq)
	}
	ln, err := format.ParseLine(e.Line)
	if err != nil {
		return Receipt{}, err
	}
	erased := format.Line{Seq: ln.Seq, Time: ln.Time, Prev: ln.Prev, Erased: true, BodyHash: e.BodyHash, Sig: ln.Sig}
	// The record in the one form verifiers accept (docs/FORMAT.md §5).
	prep := make([]commit.Event, 1)
	if err := l.prepareEncoded(format.AppendErasureEvent(nil, seq, e.BodyHash, requestedBy, reason), &prep[0]); err != nil {
		return Receipt{}, err
	}
	p, err := l.submitPrepared(ctx, prep, &store.Erasure{Seq: seq, Line: format.AppendLine(nil, &erased)})
	if err != nil {
		return Receipt{}, err
	}
	rs, err := p.Wait(ctx)
	if err != nil {
		return Receipt{}, fmt.Errorf("sealog: erasing entry %d: %w", seq, err)
	}
	return rs[0], nil
}
