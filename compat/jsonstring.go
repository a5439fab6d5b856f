package compat

import "unicode/utf8"

// String decoding for the parser in jsonvalue.go, and accessors for the
// parsed nodes.

func (p *jparser) str() (int32, error) {
	p.pos++ // opening quote
	start := p.pos
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == '"':
			n := jnode{kind: jString, a: int32(start), b: int32(p.pos - start), s0: int32(start - 1)}
			p.pos++
			n.s1 = int32(p.pos)
			return p.add(n), nil
		case c == '\\':
			return p.strEscaped(start)
		case c < 0x20:
			return 0, p.errf("invalid control character in string")
		}
		p.pos++
	}
	return 0, p.errf("unterminated string")
}

// strEscaped decodes a string that holds escapes into the arena.
func (p *jparser) strEscaped(start int) (int32, error) {
	aStart := len(p.arena)
	p.arena = append(p.arena, p.src[start:p.pos]...)
	var flags = flagArena
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == '"':
			p.pos++
			return p.add(jnode{kind: jString, flags: flags, a: int32(aStart), b: int32(len(p.arena) - aStart), s0: int32(start - 1), s1: int32(p.pos)}), nil
		case c < 0x20:
			return 0, p.errf("invalid control character in string")
		case c != '\\':
			p.arena = append(p.arena, c)
			p.pos++
			continue
		}
		if p.pos+1 >= len(p.src) {
			return 0, p.errf("unterminated string")
		}
		e := p.src[p.pos+1]
		p.pos += 2
		switch e {
		case '"', '\\', '/':
			p.arena = append(p.arena, e)
		case 'b':
			p.arena = append(p.arena, '\b')
		case 'f':
			p.arena = append(p.arena, '\f')
		case 'n':
			p.arena = append(p.arena, '\n')
		case 'r':
			p.arena = append(p.arena, '\r')
		case 't':
			p.arena = append(p.arena, '\t')
		case 'u':
			r, ok := p.hex4(p.pos)
			if !ok {
				return 0, p.errf("invalid \\u escape")
			}
			p.pos += 4
			if r >= 0xD800 && r < 0xDC00 && p.pos+6 <= len(p.src) && p.src[p.pos] == '\\' && p.src[p.pos+1] == 'u' {
				if r2, ok := p.hex4(p.pos + 2); ok && r2 >= 0xDC00 && r2 < 0xE000 {
					p.pos += 6
					r = 0x10000 + (r-0xD800)<<10 + (r2 - 0xDC00)
				}
			}
			if r >= 0xD800 && r < 0xE000 {
				// Python keeps a lone surrogate in the str, but cannot
				// encode it to UTF-8 later: remember that.
				flags |= flagSurrogate
				r = utf8.RuneError
			}
			p.arena = utf8.AppendRune(p.arena, r)
		default:
			return 0, p.errf("invalid escape \\%c", e)
		}
	}
	return 0, p.errf("unterminated string")
}

func (p *jparser) hex4(at int) (rune, bool) {
	if at+4 > len(p.src) {
		return 0, false
	}
	var r rune
	for _, c := range p.src[at : at+4] {
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	return r, true
}

// text returns a scalar's bytes: the decoded string, or the literal text.
func (p *jparser) text(i int32) []byte {
	n := &p.nodes[i]
	if n.flags&flagArena != 0 {
		return p.arena[n.a : n.a+n.b]
	}
	return p.src[n.a : n.a+n.b]
}

// raw returns the source text of node i.
func (p *jparser) raw(i int32) []byte {
	return p.src[p.nodes[i].s0:p.nodes[i].s1]
}

// member returns the value node of key in object obj (the last one when
// the key repeats, as Python's dict does), or -1.
func (p *jparser) member(obj int32, key string) int32 {
	n := p.nodes[obj]
	if n.kind != jObject {
		return -1
	}
	found := int32(-1)
	for k := n.a; k < n.a+2*n.b; k += 2 {
		if string(p.text(p.kids[k])) == key {
			found = p.kids[k+1]
		}
	}
	return found
}

// stringMember returns the string value of key, with ok false when the key
// is absent or null, and present true when it exists but is not a string.
func (p *jparser) stringMember(obj int32, key string) (s []byte, ok, wrongType bool) {
	v := p.member(obj, key)
	if v < 0 || p.nodes[v].kind == jNull {
		return nil, false, false
	}
	if p.nodes[v].kind != jString {
		return nil, false, true
	}
	return p.text(v), true, false
}
