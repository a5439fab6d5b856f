package store

import (
	"bytes"
	"fmt"

	"github.com/sealog/sealog/format"
)

// CheckErasure checks that e may replace stored, the committed line of
// entry e.Seq: e.Line is the erased form of that very entry — same seq,
// time, prev, body commitment and signature member, hence the same leaf
// hash — and the entry is not erased already (ErrErased). Every backend
// calls it before applying an erasure, so that an erasure can change
// nothing but the removal of the salt and the event.
func CheckErasure(stored Line, e Erasure) error {
	if stored.Seq != e.Seq {
		return fmt.Errorf("erasure of entry %d checked against entry %d", e.Seq, stored.Seq)
	}
	if len(e.Line) == 0 || e.Line[len(e.Line)-1] != '\n' || bytes.IndexByte(e.Line[:len(e.Line)-1], '\n') >= 0 {
		return fmt.Errorf("erasure of entry %d: the erased line must be one line ending with a newline", e.Seq)
	}
	old, err := format.ParseLine(stored.Bytes)
	if err != nil {
		return fmt.Errorf("erasure of entry %d: the stored line: %w", e.Seq, err)
	}
	if old.Erased {
		return fmt.Errorf("entry %d: %w", e.Seq, ErrErased)
	}
	nl, err := format.ParseLine(e.Line[:len(e.Line)-1])
	if err != nil {
		return fmt.Errorf("erasure of entry %d: %w", e.Seq, err)
	}
	oh, nh := old.Header(), nl.Header()
	switch {
	case !nl.Erased:
		return fmt.Errorf("erasure of entry %d: the new line is not an erased line", e.Seq)
	case nh.LeafHash() != oh.LeafHash() || nh.LeafHash() != stored.Leaf:
		return fmt.Errorf("erasure of entry %d: the erased line does not keep the entry's leaf hash", e.Seq)
	case !bytes.Equal(nl.Sig, old.Sig):
		return fmt.Errorf("erasure of entry %d: the erased line changes the batch signature", e.Seq)
	}
	return nil
}
