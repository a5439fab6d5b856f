package compat

import (
	"errors"
	"fmt"
)

// This file holds an exact JSON parser shaped after Python's json.loads:
// it keeps every number's text (so big integers stay exact and 1000 is told
// from 1000.0), accepts the NaN/Infinity/-Infinity literals the Python tools
// write, rejects raw control characters in strings, and lets the last of
// duplicated keys win. It parses into a flat node arena that is reused from
// one line to the next, so the hot path allocates nothing once warm.

type jkind uint8

const (
	jNull jkind = iota
	jTrue
	jFalse
	jInt    // integer literal, text kept exactly
	jFloat  // number with a fraction or an exponent
	jNaN    // NaN literal
	jPosInf // Infinity literal
	jNegInf // -Infinity literal
	jString
	jArray
	jObject
)

const (
	flagArena     uint8 = 1 << iota // string bytes live in the arena, not in src
	flagSurrogate                   // string held a lone UTF-16 surrogate escape
)

// maxJSONLen bounds one JSON text: node offsets are 32-bit.
const maxJSONLen = 1<<31 - 1

// maxDepth bounds nesting, as Python's recursion limit does.
const maxDepth = 900

// maxIntDigits is CPython's default int_max_str_digits: json.loads refuses
// longer integer literals.
const maxIntDigits = 4300

type jnode struct {
	kind  jkind
	flags uint8
	a, b  int32 // scalars: offset and length of the text; containers: first kid and count
	s0    int32 // where the value's source text starts in src
	s1    int32 // and ends
}

// jparser parses one JSON text at a time into a reusable node arena.
type jparser struct {
	src   []byte
	pos   int
	nodes []jnode
	kids  []int32 // arrays: value nodes; objects: key, value pairs
	arena []byte  // decoded strings that held escapes
	stack []int32
	depth int
}

var errDepth = errors.New("json nests too deep")

// parse parses src as one JSON value with optional surrounding whitespace.
// The root node is node 0.
func (p *jparser) parse(src []byte) error {
	if len(src) > maxJSONLen {
		return fmt.Errorf("json: line of %d bytes is longer than %d", len(src), maxJSONLen)
	}
	p.src, p.pos, p.depth = src, 0, 0
	p.nodes, p.kids, p.arena, p.stack = p.nodes[:0], p.kids[:0], p.arena[:0], p.stack[:0]
	p.skipWS()
	if _, err := p.value(); err != nil {
		return err
	}
	p.skipWS()
	if p.pos != len(p.src) {
		return p.errf("extra data after the JSON value")
	}
	return nil
}

func (p *jparser) errf(format string, args ...any) error {
	return fmt.Errorf("json: %s at byte %d", fmt.Sprintf(format, args...), p.pos)
}

func (p *jparser) skipWS() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *jparser) add(n jnode) int32 {
	p.nodes = append(p.nodes, n)
	return int32(len(p.nodes) - 1)
}

func (p *jparser) lit(word string, k jkind) (int32, error) {
	if len(p.src)-p.pos < len(word) || string(p.src[p.pos:p.pos+len(word)]) != word {
		return 0, p.errf("invalid literal")
	}
	start := p.pos
	p.pos += len(word)
	return p.add(jnode{kind: k, a: int32(start), b: int32(len(word)), s0: int32(start), s1: int32(p.pos)}), nil
}

func (p *jparser) value() (int32, error) {
	if p.pos >= len(p.src) {
		return 0, p.errf("unexpected end of input")
	}
	switch c := p.src[p.pos]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		return p.str()
	case c == 't':
		return p.lit("true", jTrue)
	case c == 'f':
		return p.lit("false", jFalse)
	case c == 'n':
		return p.lit("null", jNull)
	case c == 'N':
		return p.lit("NaN", jNaN)
	case c == 'I':
		return p.lit("Infinity", jPosInf)
	case c == '-' && p.pos+1 < len(p.src) && p.src[p.pos+1] == 'I':
		return p.lit("-Infinity", jNegInf)
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		return 0, p.errf("unexpected character %q", c)
	}
}

func (p *jparser) number() (int32, error) {
	start := p.pos
	if p.src[p.pos] == '-' {
		p.pos++
	}
	digits := p.pos
	switch {
	case p.pos < len(p.src) && p.src[p.pos] == '0':
		p.pos++
	case p.pos < len(p.src) && p.src[p.pos] >= '1' && p.src[p.pos] <= '9':
		for p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
			p.pos++
		}
	default:
		return 0, p.errf("invalid number")
	}
	intDigits := p.pos - digits
	kind := jInt
	// Python's NUMBER_RE: a fraction or exponent that does not match is
	// left unconsumed (and then fails as extra data), as here.
	if p.pos+1 < len(p.src) && p.src[p.pos] == '.' && isDigit(p.src[p.pos+1]) {
		p.pos += 2
		for p.pos < len(p.src) && isDigit(p.src[p.pos]) {
			p.pos++
		}
		kind = jFloat
	}
	if p.pos < len(p.src) && (p.src[p.pos] == 'e' || p.src[p.pos] == 'E') {
		q := p.pos + 1
		if q < len(p.src) && (p.src[q] == '+' || p.src[q] == '-') {
			q++
		}
		if q < len(p.src) && isDigit(p.src[q]) {
			for q < len(p.src) && isDigit(p.src[q]) {
				q++
			}
			p.pos = q
			kind = jFloat
		}
	}
	if kind == jInt && intDigits > maxIntDigits {
		return 0, p.errf("integer longer than %d digits", maxIntDigits)
	}
	return p.add(jnode{kind: kind, a: int32(start), b: int32(p.pos - start), s0: int32(start), s1: int32(p.pos)}), nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (p *jparser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return errDepth
	}
	return nil
}

func (p *jparser) array() (int32, error) {
	if err := p.enter(); err != nil {
		return 0, err
	}
	self := p.add(jnode{kind: jArray, s0: int32(p.pos)})
	base := len(p.stack)
	p.pos++
	p.skipWS()
	if p.pos < len(p.src) && p.src[p.pos] == ']' {
		p.pos++
	} else {
		for {
			p.skipWS()
			v, err := p.value()
			if err != nil {
				return 0, err
			}
			p.stack = append(p.stack, v)
			p.skipWS()
			if p.pos >= len(p.src) {
				return 0, p.errf("unterminated array")
			}
			if p.src[p.pos] == ',' {
				p.pos++
				continue
			}
			if p.src[p.pos] != ']' {
				return 0, p.errf("expected ',' or ']'")
			}
			p.pos++
			break
		}
	}
	p.close(self, base, len(p.stack)-base)
	return self, nil
}

func (p *jparser) object() (int32, error) {
	if err := p.enter(); err != nil {
		return 0, err
	}
	self := p.add(jnode{kind: jObject, s0: int32(p.pos)})
	base := len(p.stack)
	p.pos++
	p.skipWS()
	if p.pos < len(p.src) && p.src[p.pos] == '}' {
		p.pos++
	} else {
		for {
			p.skipWS()
			if p.pos >= len(p.src) || p.src[p.pos] != '"' {
				return 0, p.errf("expected a string key")
			}
			k, err := p.str()
			if err != nil {
				return 0, err
			}
			p.skipWS()
			if p.pos >= len(p.src) || p.src[p.pos] != ':' {
				return 0, p.errf("expected ':'")
			}
			p.pos++
			p.skipWS()
			v, err := p.value()
			if err != nil {
				return 0, err
			}
			p.stack = append(p.stack, k, v)
			p.skipWS()
			if p.pos >= len(p.src) {
				return 0, p.errf("unterminated object")
			}
			if p.src[p.pos] == ',' {
				p.pos++
				continue
			}
			if p.src[p.pos] != '}' {
				return 0, p.errf("expected ',' or '}'")
			}
			p.pos++
			break
		}
	}
	p.close(self, base, (len(p.stack)-base)/2)
	return self, nil
}

func (p *jparser) close(self int32, base, count int) {
	first := len(p.kids)
	p.kids = append(p.kids, p.stack[base:]...)
	p.stack = p.stack[:base]
	p.nodes[self].a, p.nodes[self].b = int32(first), int32(count)
	p.nodes[self].s1 = int32(p.pos)
	p.depth--
}
