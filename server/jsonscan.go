package server

import (
	"bytes"
	"strconv"
	"strings"
)

// scanner is a strict, single-pass JSON reader for request bodies. Unlike
// encoding/json it rejects duplicate member names (compared after
// unescaping), invalid UTF-8 and unpaired surrogate escapes, and nesting
// deeper than maxDepth; every error names the field where it happened.
type scanner struct {
	b        []byte
	i        int
	maxDepth int
	depth    int
	path     []seg // the position, for errors
}

// seg is one step of a field path: a member name or an array index.
type seg struct {
	key   []byte // raw (possibly escaped) member name; nil for an index
	index int
}

// field renders the current path: "[3].payload.ip", "kind".
func (s *scanner) field() string {
	var b strings.Builder
	for _, g := range s.path {
		if g.key == nil {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(g.index))
			b.WriteByte(']')
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		k, _ := unescape(g.key)
		b.Write(k)
	}
	return b.String()
}

func (s *scanner) errf(format string, args ...any) *apiError {
	return badRequest(s.field(), format, args...)
}

// syntax reports a syntax error at the current byte.
func (s *scanner) syntax() *apiError {
	if s.i >= len(s.b) {
		return s.errf("invalid JSON: unexpected end of the body")
	}
	c := s.b[s.i]
	if c < 0x20 || c >= 0x7f {
		return s.errf("invalid JSON: unexpected byte 0x%02x at offset %d", c, s.i)
	}
	return s.errf("invalid JSON: unexpected %q at offset %d", c, s.i)
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner) push() *apiError {
	s.depth++
	if s.depth > s.maxDepth {
		return s.errf("nested deeper than %d levels", s.maxDepth)
	}
	return nil
}

// value checks any JSON value at s.i (after white space).
func (s *scanner) value() *apiError {
	switch c := s.peek(); {
	case c == '{':
		return s.object(nil)
	case c == '[':
		return s.array()
	case c == '"':
		_, _, err := s.str()
		return err
	case c == 't':
		return s.lit("true")
	case c == 'f':
		return s.lit("false")
	case c == 'n':
		return s.lit("null")
	case c == '-' || ('0' <= c && c <= '9'):
		return s.number()
	}
	return s.syntax()
}

func (s *scanner) lit(w string) *apiError {
	if !bytes.HasPrefix(s.b[s.i:], []byte(w)) {
		return s.syntax()
	}
	s.i += len(w)
	return nil
}

// number checks a number per RFC 8259's grammar.
func (s *scanner) number() *apiError {
	digits := func() int {
		n := 0
		for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	if s.peek() == '-' {
		s.i++
	}
	if s.peek() == '0' {
		s.i++
	} else if digits() == 0 {
		return s.syntax()
	}
	if s.peek() == '.' {
		s.i++
		if digits() == 0 {
			return s.syntax()
		}
	}
	if c := s.peek(); c == 'e' || c == 'E' {
		s.i++
		if c := s.peek(); c == '+' || c == '-' {
			s.i++
		}
		if digits() == 0 {
			return s.syntax()
		}
	}
	return nil
}

// object checks an object at s.i. member, if not nil, handles each
// member's value itself (for the event object); otherwise values are
// checked by value. Duplicate names are rejected at every level.
func (s *scanner) object(member func(key []byte) *apiError) *apiError {
	if err := s.push(); err != nil {
		return err
	}
	s.i++ // '{'
	var names nameSet
	s.path = append(s.path, seg{})
	defer func() { s.path = s.path[:len(s.path)-1] }()
	s.ws()
	if s.peek() == '}' {
		s.i++
		s.depth--
		return nil
	}
	for {
		s.ws()
		raw, _, err := s.str()
		if err != nil {
			return err
		}
		s.path[len(s.path)-1] = seg{key: raw}
		key, _ := unescape(raw)
		if !names.add(key) {
			return s.errf("duplicate member name %q", key)
		}
		s.ws()
		if s.peek() != ':' {
			return s.syntax()
		}
		s.i++
		s.ws()
		if member != nil {
			err = member(key)
		} else {
			err = s.value()
		}
		if err != nil {
			return err
		}
		s.ws()
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			s.depth--
			return nil
		default:
			return s.syntax()
		}
	}
}

func (s *scanner) array() *apiError {
	return s.elements(func(int) *apiError { return s.value() })
}

// elements checks an array at s.i, calling elem for each element.
func (s *scanner) elements(elem func(i int) *apiError) *apiError {
	if err := s.push(); err != nil {
		return err
	}
	s.i++ // '['
	s.path = append(s.path, seg{})
	defer func() { s.path = s.path[:len(s.path)-1] }()
	s.ws()
	if s.peek() == ']' {
		s.i++
		s.depth--
		return nil
	}
	for n := 0; ; n++ {
		s.path[len(s.path)-1] = seg{index: n}
		s.ws()
		if err := elem(n); err != nil {
			return err
		}
		s.ws()
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			s.depth--
			return nil
		default:
			return s.syntax()
		}
	}
}

// nameSet holds an object's member names: a slice while small, a map
// past that.
type nameSet struct {
	small [][]byte
	big   map[string]struct{}
}

func (n *nameSet) add(k []byte) bool {
	if n.big != nil {
		if _, ok := n.big[string(k)]; ok {
			return false
		}
		n.big[string(k)] = struct{}{}
		return true
	}
	for _, o := range n.small {
		if bytes.Equal(o, k) {
			return false
		}
	}
	n.small = append(n.small, k)
	if len(n.small) > 16 {
		n.big = make(map[string]struct{}, 32)
		for _, o := range n.small {
			n.big[string(o)] = struct{}{}
		}
		n.small = nil
	}
	return true
}
