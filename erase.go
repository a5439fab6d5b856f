package sealog

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/sealog/sealog/format"
)

// ErrErased is returned by Erase for an entry that is already erased.
var ErrErased = errors.New("sealog: entry already erased")

// EraseKind is the kind of the event that records an erasure.
const EraseKind = "sealog.erase"

// Erase removes the content of entry seq, for example to honour a GDPR
// erasure request: its kind, actor, resource and payload, and the salt
// that would let anyone confirm a guess of them. Its header and body
// commitment stay, so the chain, the tree and every signature still
// verify, and verifiers count the entry as erased.
//
// The erasure is itself recorded first, as an event of kind EraseKind
// whose payload names the entry, its body hash and the reason; Erase
// returns that event's receipt.
func (l *Log) Erase(ctx context.Context, seq uint64, reason string) (Receipt, error) {
	if l.key == nil {
		return Receipt{}, ErrReadOnly
	}
	e, err := l.Entry(seq)
	if err != nil {
		return Receipt{}, err
	}
	if e.Erased {
		return Receipt{}, fmt.Errorf("entry %d: %w", seq, ErrErased)
	}
	ln, err := format.ParseLine(e.Line)
	if err != nil {
		return Receipt{}, err
	}
	r, err := l.Append(ctx, Event{Kind: EraseKind, Resource: fmt.Sprintf("entry/%d", seq), Payload: map[string]any{
		"seq": seq, "body_hash": hex.EncodeToString(e.BodyHash[:]), "reason": reason,
	}})
	if err != nil {
		return Receipt{}, fmt.Errorf("sealog: recording the erasure of entry %d: %w", seq, err)
	}
	erased := format.Line{Seq: ln.Seq, Time: ln.Time, Prev: ln.Prev, Erased: true, BodyHash: e.BodyHash, Sig: ln.Sig}
	if err := l.st.Erase(ctx, seq, format.AppendLine(nil, &erased)); err != nil {
		return r, fmt.Errorf("sealog: %w", err)
	}
	return r, nil
}
