package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/sealog/sealog/format"
)

// inputEvent is one event as 'sealog append' reads it:
// {"kind":...,"actor":...,"resource":...,"payload":{...}}.
type inputEvent struct {
	kind, actor, resource string
	payload               []byte // compact JSON object
}

// parseEvent parses one input event. It is a small scanner rather than
// encoding/json so that a line is read once, unknown members are named,
// and the payload is kept as the bytes given (compacted). The payload is
// checked to be one JSON object in valid UTF-8 and appended, compact, to
// arena; the returned payload aliases arena's new tail.
func parseEvent(b []byte, arena []byte) (inputEvent, []byte, error) {
	var ev inputEvent
	if !utf8.Valid(b) {
		return ev, arena, errors.New("invalid UTF-8")
	}
	s := scanner{b: b}
	s.ws()
	if !s.eat('{') {
		return ev, arena, errors.New("not a JSON object (an event is {\"kind\":...,\"payload\":{...}})")
	}
	var seen [4]bool
	s.ws()
	if !s.eat('}') {
		for {
			s.ws()
			key, err := s.str()
			if err != nil {
				return ev, arena, fmt.Errorf("bad member name: %v", err)
			}
			s.ws()
			if !s.eat(':') {
				return ev, arena, fmt.Errorf("expected ':' after %q", key)
			}
			s.ws()
			idx := -1
			switch key {
			case "kind":
				idx = 0
			case "actor":
				idx = 1
			case "resource":
				idx = 2
			case "payload":
				idx = 3
			default:
				return ev, arena, fmt.Errorf("unknown member %q (an event has kind, actor, resource and payload)", key)
			}
			if seen[idx] {
				return ev, arena, fmt.Errorf("member %q appears twice", key)
			}
			seen[idx] = true
			if idx < 3 {
				var v string
				if s.lit("null") {
					v = ""
				} else if v, err = s.str(); err != nil {
					return ev, arena, fmt.Errorf("%s must be a JSON string: %v", key, err)
				}
				switch idx {
				case 0:
					ev.kind = v
				case 1:
					ev.actor = v
				case 2:
					ev.resource = v
				}
			} else if !s.lit("null") {
				start := s.i
				if s.i >= len(s.b) || s.b[s.i] != '{' {
					return ev, arena, fmt.Errorf("payload must be a JSON object, not %s", describeValue(s.b[s.i:]))
				}
				if err := s.skip(0); err != nil {
					return ev, arena, fmt.Errorf("payload: %v", err)
				}
				n := len(arena)
				arena, err = format.CompactPayload(arena, s.b[start:s.i])
				if err != nil {
					return ev, arena[:n], fmt.Errorf("payload: %v", err)
				}
				ev.payload = arena[n:len(arena):len(arena)]
			}
			s.ws()
			if s.eat('}') {
				break
			}
			if !s.eat(',') {
				return ev, arena, fmt.Errorf("expected ',' or '}' after member %q", key)
			}
		}
	}
	s.ws()
	if s.i != len(s.b) {
		return ev, arena, fmt.Errorf("unexpected %s after the event object", describeValue(s.b[s.i:]))
	}
	if ev.kind == "" {
		return ev, arena, errors.New(`missing "kind" (required, a non-empty string such as "user.login")`)
	}
	return ev, arena, nil
}

// describeValue names the JSON value b starts with, for error messages.
func describeValue(b []byte) string {
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '"':
		return "a string"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	case '{':
		return "an object"
	}
	if b[0] == '-' || (b[0] >= '0' && b[0] <= '9') {
		return "a number"
	}
	r, _ := utf8.DecodeRune(b)
	return fmt.Sprintf("%q", r)
}

// scanner walks a JSON text. It finds the extent of values; the payload's
// grammar is checked in full by format.CompactPayload.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) eat(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

func (s *scanner) lit(l string) bool {
	if len(s.b)-s.i >= len(l) && string(s.b[s.i:s.i+len(l)]) == l {
		s.i += len(l)
		return true
	}
	return false
}

// str reads a JSON string and returns its value.
func (s *scanner) str() (string, error) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return "", fmt.Errorf("expected a string, found %s", describeValue(s.b[s.i:]))
	}
	start := s.i
	s.i++
	escaped := false
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			if !escaped {
				return string(s.b[start+1 : s.i-1]), nil
			}
			var v string
			if err := json.Unmarshal(s.b[start:s.i], &v); err != nil {
				return "", errors.New("bad escape in string")
			}
			return v, nil
		case c == '\\':
			escaped = true
			s.i += 2
		case c < 0x20:
			return "", errors.New("control character in string (escape it)")
		default:
			s.i++
		}
	}
	return "", errors.New("unterminated string")
}

// skip moves past one JSON value (a string, object, array or scalar).
func (s *scanner) skip(depth int) error {
	if depth > 1000 {
		return errors.New("nested too deeply")
	}
	if s.i >= len(s.b) {
		return errors.New("unexpected end of line")
	}
	switch s.b[s.i] {
	case '"':
		_, err := s.rawStr()
		return err
	case '{', '[':
		open := s.b[s.i]
		close := byte('}')
		if open == '[' {
			close = ']'
		}
		s.i++
		s.ws()
		if s.eat(close) {
			return nil
		}
		for {
			s.ws()
			if open == '{' {
				if _, err := s.rawStr(); err != nil {
					return err
				}
				s.ws()
				if !s.eat(':') {
					return errors.New("expected ':' in object")
				}
				s.ws()
			}
			if err := s.skip(depth + 1); err != nil {
				return err
			}
			s.ws()
			if s.eat(close) {
				return nil
			}
			if !s.eat(',') {
				if s.i >= len(s.b) {
					return errors.New("unexpected end of line (unbalanced brackets)")
				}
				return fmt.Errorf("unexpected %q at byte %d", s.b[s.i], s.i+1)
			}
		}
	default:
		start := s.i
		for s.i < len(s.b) {
			c := s.b[s.i]
			if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\r' || c == '\n' {
				break
			}
			s.i++
		}
		if s.i == start {
			return fmt.Errorf("unexpected %q at byte %d", s.b[s.i], s.i+1)
		}
		return nil
	}
}

// rawStr moves past a string without decoding it.
func (s *scanner) rawStr() (int, error) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return 0, fmt.Errorf("expected a string at byte %d", s.i+1)
	}
	start := s.i
	s.i++
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '"':
			s.i++
			return start, nil
		case '\\':
			s.i += 2
		default:
			s.i++
		}
	}
	return 0, errors.New("unterminated string")
}
