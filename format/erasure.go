package format

import (
	"bytes"
	"strconv"
)

// EraseKind is the kind of an erasure record: the live entry that a writer
// appends before it erases an earlier entry (docs/FORMAT.md section 5).
const EraseKind = "sealog.erase"

// Erasure is what an erasure record names: the erased entry's seq and its
// body hash.
type Erasure struct {
	Seq      uint64
	BodyHash Hash
}

// The fixed parts of an erasure record's event, in order:
//
//	{"kind":"sealog.erase"[,"actor":ACTOR],"resource":"entry/SEQ","payload":{"body_hash":"HASH","reason":REASON,"seq":SEQ}}
var (
	eraseKind     = []byte(`{"kind":"sealog.erase"`)
	eraseActor    = []byte(`,"actor":`)
	eraseResource = []byte(`,"resource":"entry/`)
	eraseBody     = []byte(`","payload":{"body_hash":"`)
	eraseReason   = []byte(`","reason":`)
	eraseSeq      = []byte(`,"seq":`)
	eraseEnd      = []byte(`}}`)
)

// ParseErasure reports whether event, the EVENT bytes of a live line, is an
// erasure record in the one form docs/FORMAT.md section 5 allows, and if
// so what it names. Any other event, even one of kind EraseKind, names
// nothing: it is not an erasure record.
func ParseErasure(event []byte) (Erasure, bool) {
	var e Erasure
	rest, ok := bytes.CutPrefix(event, eraseKind)
	if !ok {
		return e, false
	}
	if r, ok := bytes.CutPrefix(rest, eraseActor); ok {
		n := jsonStringLen(r)
		if n < 0 {
			return e, false
		}
		rest = r[n:]
	}
	if rest, ok = bytes.CutPrefix(rest, eraseResource); !ok {
		return e, false
	}
	seq, n := leadingUint(rest)
	if n == 0 {
		return e, false
	}
	rest = rest[n:]
	if rest, ok = bytes.CutPrefix(rest, eraseBody); !ok || len(rest) < 2*HashLen {
		return e, false
	}
	if !decodeHex(e.BodyHash[:], rest[:2*HashLen]) {
		return e, false
	}
	if rest, ok = bytes.CutPrefix(rest[2*HashLen:], eraseReason); !ok {
		return e, false
	}
	if n = jsonStringLen(rest); n < 0 {
		return e, false
	}
	if rest, ok = bytes.CutPrefix(rest[n:], eraseSeq); !ok {
		return e, false
	}
	seq2, n := leadingUint(rest)
	if n == 0 || seq2 != seq || !bytes.Equal(rest[n:], eraseEnd) {
		return e, false
	}
	e.Seq = seq
	return e, true
}

// AppendErasureEvent appends the erasure record's event for the erasure
// of entry seq, whose body hash is bodyHash, to dst: the only form that
// ParseErasure accepts. actor may be empty; reason and actor must be valid
// UTF-8.
func AppendErasureEvent(dst []byte, seq uint64, bodyHash Hash, actor, reason string) []byte {
	dst = append(dst, eraseKind...)
	if actor != "" {
		dst = append(dst, eraseActor...)
		dst = appendString(dst, actor)
	}
	dst = append(dst, eraseResource...)
	dst = strconv.AppendUint(dst, seq, 10)
	dst = append(dst, eraseBody...)
	dst = appendHex(dst, bodyHash[:])
	dst = append(dst, eraseReason...)
	dst = appendString(dst, reason)
	dst = append(dst, eraseSeq...)
	dst = strconv.AppendUint(dst, seq, 10)
	return append(dst, eraseEnd...)
}

// leadingUint parses the canonical decimal (no leading zero, at most
// MaxSeq) at the start of b and returns it and its length; 0 when there is
// none.
func leadingUint(b []byte) (uint64, int) {
	n := 0
	for n < len(b) && b[n] >= '0' && b[n] <= '9' {
		n++
	}
	v, err := parseUint(b[:n])
	if err != nil || v > MaxSeq {
		return 0, 0
	}
	return v, n
}

// jsonStringLen returns the length of the JSON string (RFC 8259 section 7)
// that b starts with, quotes included, or -1. Bytes from 0x80 up are taken
// as they are; UTF-8 is not checked. Escapes are \" \\ \/ \b \f \n \r \t
// and \u followed by four hex digits of either case.
func jsonStringLen(b []byte) int {
	if len(b) == 0 || b[0] != '"' {
		return -1
	}
	for i := 1; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1
		case c < 0x20:
			return -1
		case c == '\\':
			if i+1 >= len(b) {
				return -1
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if i+5 >= len(b) || !isHex4(b[i+2:i+6]) {
					return -1
				}
				i += 5
			default:
				return -1
			}
		}
	}
	return -1
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
