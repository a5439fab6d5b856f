package format

import (
	"bytes"
	"errors"
	"strings"
)

// RotateKind is the kind of a rotation record: the live entry with which a
// log hands its signing over from one key to the next (docs/FORMAT.md
// section 5a).
const RotateKind = "sealog.rotate"

// Rotation is what a rotation record names: the verifier key that signs
// the log up to and including the record's batch (Prev), and the one that
// signs every later batch (Key). Both are C2SP note verifier keys.
type Rotation struct {
	Key  string
	Prev string
}

// The fixed parts of a rotation record's event, in order:
//
//	{"kind":"sealog.rotate","payload":{"key":"KEY","prev":"PREV"}}
var (
	rotateKind = []byte(`{"kind":"sealog.rotate","payload":{"key":"`)
	rotatePrev = []byte(`","prev":"`)
	rotateEnd  = []byte(`"}}`)
)

// ParseRotation reports whether event, the EVENT bytes of a live line, is
// a rotation record in the one form docs/FORMAT.md section 5a allows, and
// if so what it names. The keys are not parsed here (CheckRotation does);
// any other event, even one of kind RotateKind, names nothing.
func ParseRotation(event []byte) (Rotation, bool) {
	rest, ok := bytes.CutPrefix(event, rotateKind)
	if !ok {
		return Rotation{}, false
	}
	key, rest, ok := rotationString(rest)
	if !ok {
		return Rotation{}, false
	}
	if rest, ok = bytes.CutPrefix(rest, rotatePrev); !ok {
		return Rotation{}, false
	}
	prev, rest, ok := rotationString(rest)
	if !ok || !bytes.Equal(rest, rotateEnd) {
		return Rotation{}, false
	}
	return Rotation{Key: string(key), Prev: string(prev)}, true
}

// rotationString takes the key text up to the next '"': printable ASCII
// without '"' or '\', so that it needs no JSON escape.
func rotationString(b []byte) (s, rest []byte, ok bool) {
	for i, c := range b {
		if c == '"' {
			return b[:i], b[i:], i > 0
		}
		if c < 0x21 || c > 0x7e || c == '\\' {
			return nil, nil, false
		}
	}
	return nil, nil, false
}

// AppendRotationEvent appends the rotation record's event handing the log
// from key prev to key next (note verifier keys) to dst: the only form
// ParseRotation accepts. CheckRotationKeys says whether the keys can be
// written in it.
func AppendRotationEvent(dst []byte, next, prev string) []byte {
	dst = append(dst, rotateKind...)
	dst = append(dst, next...)
	dst = append(dst, rotatePrev...)
	dst = append(dst, prev...)
	return append(dst, rotateEnd...)
}

// CheckRotationKeys reports whether a rotation record can name the two
// keys: each printable ASCII without '"' or '\' (origins outside that
// set cannot rotate), and the two distinct.
func CheckRotationKeys(next, prev string) error {
	for _, k := range []string{next, prev} {
		if k == "" || strings.ContainsFunc(k, func(r rune) bool { return r < 0x21 || r > 0x7e || r == '"' || r == '\\' }) {
			return errors.New("a rotation record can only name keys of printable ASCII without '\"' or '\\'")
		}
	}
	if next == prev {
		return errors.New("the new key is the key in use")
	}
	return nil
}
