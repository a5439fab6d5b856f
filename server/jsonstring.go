package server

import (
	"bytes"
	"unicode/utf16"
	"unicode/utf8"
)

// str reads a string at s.i and returns its raw content (between the
// quotes) and whether it has escapes.
func (s *scanner) str() ([]byte, bool, *apiError) {
	if s.peek() != '"' {
		return nil, false, s.syntax()
	}
	s.i++
	start := s.i
	escaped := false
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			raw := s.b[start:s.i]
			s.i++
			return raw, escaped, nil
		case c == '\\':
			escaped = true
			if err := s.escape(); err != nil {
				return nil, false, err
			}
		case c < 0x20:
			return nil, false, s.errf("invalid JSON: control character 0x%02x in a string (escape it)", c)
		case c < utf8.RuneSelf:
			s.i++
		default:
			r, n := utf8.DecodeRune(s.b[s.i:])
			if r == utf8.RuneError && n <= 1 {
				return nil, false, s.errf("invalid UTF-8 at offset %d", s.i)
			}
			s.i += n
		}
	}
	return nil, false, s.errf("invalid JSON: unterminated string")
}

// escape checks the escape sequence at s.i, including surrogate pairs.
func (s *scanner) escape() *apiError {
	if s.i+1 >= len(s.b) {
		return s.syntax()
	}
	switch s.b[s.i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		s.i += 2
		return nil
	case 'u':
	default:
		s.i++
		return s.errf("invalid JSON: bad escape \\%c", s.b[s.i])
	}
	r, ok := hex4(s.b[s.i+2:])
	if !ok {
		return s.errf("invalid JSON: bad \\u escape at offset %d", s.i)
	}
	s.i += 6
	switch {
	case utf16.IsSurrogate(r) && r < 0xdc00:
		if s.i+1 < len(s.b) && s.b[s.i] == '\\' && s.b[s.i+1] == 'u' {
			if r2, ok := hex4(s.b[s.i+2:]); ok && r2 >= 0xdc00 && r2 <= 0xdfff {
				s.i += 6
				return nil
			}
		}
		return s.errf("invalid UTF-16: unpaired surrogate escape at offset %d", s.i-6)
	case utf16.IsSurrogate(r):
		return s.errf("invalid UTF-16: unpaired surrogate escape at offset %d", s.i-6)
	}
	return nil
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// unescape decodes a string's raw content, already checked by str.
func unescape(raw []byte) ([]byte, bool) {
	if bytes.IndexByte(raw, '\\') < 0 {
		return raw, true
	}
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' || i+1 >= len(raw) {
			out = append(out, c)
			i++
			continue
		}
		switch raw[i+1] {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(raw[i+2:])
			if !ok {
				return out, false
			}
			i += 6
			if utf16.IsSurrogate(r) {
				r2, _ := hex4(raw[i+2:])
				r = utf16.DecodeRune(r, r2)
				i += 6
			}
			out = utf8.AppendRune(out, r)
			continue
		default: // '"', '\\', '/'
			out = append(out, raw[i+1])
		}
		i += 2
	}
	return out, true
}
