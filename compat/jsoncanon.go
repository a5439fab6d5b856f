package compat

import (
	"bytes"
	"errors"
	"math"
	"slices"
	"strconv"

	"golang.org/x/text/unicode/norm"
)

// This file re-serialises a parsed JSON value the way the Python tools do
// before hashing: keys sorted by code point, no whitespace, Python's string
// escaping with raw UTF-8, exact integers. Spine adds NFC and refuses floats;
// spanforge prints floats as Python's repr.

var (
	errFloatInPayload = errors.New("payload holds a float, which the Spine SDK never writes")
	errSurrogate      = errors.New("string holds a lone UTF-16 surrogate, which cannot be encoded as UTF-8")
)

type canonMode struct {
	nfc        bool // NFC-normalise strings and keys (Spine)
	allowFloat bool // floats are printed as Python repr (spanforge)
}

var (
	spineCanon     = canonMode{nfc: true}
	spanforgeCanon = canonMode{allowFloat: true}
)

// member pair used while sorting an object's keys.
type kv struct {
	key []byte
	val int32
}

// canonicalizer holds scratch space reused across values.
type canonicalizer struct {
	pairs []kv
	nfc   []byte // NFC output for strings that need normalising
}

// appendCanon appends the canonical form of node i of p to dst.
func (c *canonicalizer) appendCanon(dst []byte, p *jparser, i int32, m canonMode) ([]byte, error) {
	n := p.nodes[i]
	switch n.kind {
	case jNull:
		return append(dst, "null"...), nil
	case jTrue:
		return append(dst, "true"...), nil
	case jFalse:
		return append(dst, "false"...), nil
	case jInt:
		return appendPyInt(dst, p.text(i)), nil
	case jFloat, jNaN, jPosInf, jNegInf:
		if !m.allowFloat {
			return dst, errFloatInPayload
		}
		return appendPyFloat(dst, floatValue(n.kind, p.text(i))), nil
	case jString:
		if n.flags&flagSurrogate != 0 {
			return dst, errSurrogate
		}
		return appendPyString(dst, c.normal(p.text(i), m)), nil
	case jArray:
		dst = append(dst, '[')
		for k := n.a; k < n.a+n.b; k++ {
			if k > n.a {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = c.appendCanon(dst, p, p.kids[k], m); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	default:
		return c.appendObject(dst, p, n, m)
	}
}

func (c *canonicalizer) appendObject(dst []byte, p *jparser, n jnode, m canonMode) ([]byte, error) {
	base := len(c.pairs)
	sorted := true
	for k := n.a; k < n.a+2*n.b; k += 2 {
		kn := p.kids[k]
		if p.nodes[kn].flags&flagSurrogate != 0 {
			c.pairs = c.pairs[:base]
			return dst, errSurrogate
		}
		key := p.text(kn)
		if m.nfc && !isASCII(key) && !norm.NFC.IsNormal(key) {
			key = norm.NFC.Bytes(key) // rare: allocate
		}
		if len(c.pairs) > base && bytes.Compare(c.pairs[len(c.pairs)-1].key, key) >= 0 {
			sorted = false
		}
		c.pairs = append(c.pairs, kv{key: key, val: p.kids[k+1]})
	}
	pairs := c.pairs[base:]
	if !sorted {
		// Stable, so among equal keys the last one written stays last:
		// Python's dict keeps the last value of a repeated key.
		slices.SortStableFunc(pairs, func(a, b kv) int { return bytes.Compare(a.key, b.key) })
	}
	dst = append(dst, '{')
	first := true
	for j := 0; j < len(pairs); j++ {
		if j+1 < len(pairs) && bytes.Equal(pairs[j].key, pairs[j+1].key) {
			continue // a later duplicate wins
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendPyString(dst, pairs[j].key)
		dst = append(dst, ':')
		var err error
		// c.pairs may grow during the recursive call; read through the
		// index base+j rather than the stale pairs slice.
		val := c.pairs[base+j].val
		if dst, err = c.appendCanon(dst, p, val, m); err != nil {
			c.pairs = c.pairs[:base]
			return dst, err
		}
	}
	c.pairs = c.pairs[:base]
	return append(dst, '}'), nil
}

// normal returns s NFC-normalised when the mode asks for it.
func (c *canonicalizer) normal(s []byte, m canonMode) []byte {
	if !m.nfc || isASCII(s) || norm.NFC.IsNormal(s) {
		return s
	}
	c.nfc = norm.NFC.Append(c.nfc[:0], s...)
	return c.nfc
}

func isASCII(s []byte) bool {
	for _, b := range s {
		if b >= 0x80 {
			return false
		}
	}
	return true
}

// appendPyInt appends an integer literal as Python's int prints it: the
// same digits, except that -0 is 0.
func appendPyInt(dst, lit []byte) []byte {
	if lit[0] == '-' && len(lit) == 2 && lit[1] == '0' {
		return append(dst, '0')
	}
	return append(dst, lit...)
}

// floatValue returns the double that Python's float() gives for a literal.
func floatValue(k jkind, lit []byte) float64 {
	switch k {
	case jNaN:
		return math.NaN()
	case jPosInf:
		return math.Inf(1)
	case jNegInf:
		return math.Inf(-1)
	}
	// ParseFloat's range errors return ±Inf or 0, which is what Python does.
	f, _ := strconv.ParseFloat(string(lit), 64)
	return f
}

const hexDigits = "0123456789abcdef"

// appendPyString appends s as a JSON string with Python's escaping table
// (ensure_ascii=False): only '"', '\\' and U+0000–U+001F are escaped.
func appendPyString(dst, s []byte) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"':
			dst = append(dst, '\\', '"')
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\r':
			dst = append(dst, '\\', 'r')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendPyFloat appends f as Python's repr(float) prints it, which is what
// json.dumps writes: the shortest digits that read back as f; positional
// notation when the decimal exponent e satisfies -4 <= e < 16 (with ".0"
// added to integral values), otherwise d.ddde±XX with at least two exponent
// digits. NaN and the infinities are the bare literals Python's json writes.
func appendPyFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	case f == 0:
		if math.Signbit(f) {
			return append(dst, "-0.0"...)
		}
		return append(dst, "0.0"...)
	}
	var buf [32]byte
	s := strconv.AppendFloat(buf[:0], f, 'e', -1, 64) // [-]d[.ddd]e±XX
	if s[0] == '-' {
		dst = append(dst, '-')
		s = s[1:]
	}
	ePos := len(s) - 1
	for s[ePos] != 'e' {
		ePos--
	}
	exp, _ := strconv.Atoi(string(s[ePos+1:]))
	var digBuf [24]byte
	digits := append(digBuf[:0], s[0])
	if ePos > 1 {
		digits = append(digits, s[2:ePos]...) // skip the '.'
	}
	if exp >= -4 && exp < 16 {
		if exp < 0 {
			dst = append(dst, '0', '.')
			for i := 0; i < -exp-1; i++ {
				dst = append(dst, '0')
			}
			return append(dst, digits...)
		}
		if len(digits) <= exp+1 {
			dst = append(dst, digits...)
			for i := len(digits); i < exp+1; i++ {
				dst = append(dst, '0')
			}
			return append(dst, '.', '0')
		}
		dst = append(dst, digits[:exp+1]...)
		dst = append(dst, '.')
		return append(dst, digits[exp+1:]...)
	}
	dst = append(dst, digits[0])
	if len(digits) > 1 {
		dst = append(dst, '.')
		dst = append(dst, digits[1:]...)
	}
	dst = append(dst, 'e')
	if exp < 0 {
		dst = append(dst, '-')
		exp = -exp
	} else {
		dst = append(dst, '+')
	}
	if exp < 10 {
		dst = append(dst, '0')
	}
	return strconv.AppendInt(dst, int64(exp), 10)
}
