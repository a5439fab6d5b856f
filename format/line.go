package format

import (
	"encoding/base64"
	"fmt"
	"strconv"
)

// MaxLineSize is the largest segment line, newline included, that a reader
// must accept. Writers keep events well below it.
const MaxLineSize = 4 << 20

// Line is one parsed segment line: an entry as stored.
//
// A live entry has Salt and Event; an erased entry has neither and carries
// its BodyHash instead. Sig, when present, is the log's signature on the
// checkpoint of the tree that ends with this entry (the last entry of a
// committed batch): the 4-byte key hash followed by the signature, as in a
// C2SP signed-note signature line.
type Line struct {
	Seq    uint64
	Time   int64
	Prev   Hash
	Salt   [SaltSize]byte
	Event  []byte // the event's exact bytes; aliases the parsed line
	Erased bool
	// BodyHash is set by ParseLine only for an erased entry; for a live one
	// call ComputeBodyHash.
	BodyHash Hash
	Sig      []byte
}

// ComputeBodyHash returns the entry's body hash: stored for an erased entry,
// SHA-256(salt || event) for a live one.
func (l *Line) ComputeBodyHash() Hash {
	if l.Erased {
		return l.BodyHash
	}
	return BodyHash(&l.Salt, l.Event)
}

// Header returns the entry's leaf header, hashing the body if needed.
func (l *Line) Header() Header {
	return Header{Seq: l.Seq, Time: l.Time, Prev: l.Prev, BodyHash: l.ComputeBodyHash()}
}

// AppendLine appends the canonical encoding of l to dst, newline included.
// For a live entry l.Event must be an event as AppendEvent writes it.
func AppendLine(dst []byte, l *Line) []byte {
	dst = append(dst, `{"seq":`...)
	dst = strconv.AppendUint(dst, l.Seq, 10)
	dst = append(dst, `,"time":"`...)
	dst = AppendTime(dst, l.Time)
	dst = append(dst, `","prev":"`...)
	dst = appendHex(dst, l.Prev[:])
	if l.Erased {
		dst = append(dst, `","body_hash":"`...)
		dst = appendHex(dst, l.BodyHash[:])
		dst = append(dst, '"')
	} else {
		dst = append(dst, `","salt":"`...)
		dst = appendHex(dst, l.Salt[:])
		dst = append(dst, `","event":`...)
		dst = append(dst, l.Event...)
	}
	if l.Sig != nil {
		dst = AppendSig(dst, l.Sig)
	}
	return append(dst, '}', '\n')
}

// AppendSig appends the `,"sig":"<base64>"` member that carries a batch
// signature. It is the last member of a line, just before the closing brace.
func AppendSig(dst, sig []byte) []byte {
	dst = append(dst, `,"sig":"`...)
	dst = base64.StdEncoding.AppendEncode(dst, sig)
	return append(dst, '"')
}

// ParseError is a line that is not in the canonical form. Field names the
// member at fault ("seq", "time", "prev", "salt", "event", "body_hash",
// "sig" or "line" for the framing).
type ParseError struct {
	Field  string
	Reason string
}

func (e *ParseError) Error() string {
	if e.Field == "line" {
		return "malformed line: " + e.Reason
	}
	return fmt.Sprintf("malformed line: %s: %s", e.Field, e.Reason)
}

func perr(field, reason string) error { return &ParseError{Field: field, Reason: reason} }

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
