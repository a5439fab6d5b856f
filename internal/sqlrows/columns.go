package sqlrows

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"github.com/sealog/sealog/format"
)

// maxColumn caps the bytes of a query column (kind, actor, resource), so
// that every value fits in a B-tree index entry (PostgreSQL's are limited
// to about 2.7 kB); a longer value is cut at a character boundary. The
// line keeps the whole value.
const maxColumn = 1024

// EventColumns returns the kind, actor and resource of an event as the
// query columns hold them: cut at maxColumn bytes, NUL (which PostgreSQL
// text cannot hold) replaced by U+FFFD. The canonical event that the Log
// writes, {"kind":K[,"actor":A][,"resource":R],"payload":{…}} with strings
// that need no unescaping, is read in place; anything else is decoded in
// full by format.ParseEvent.
func EventColumns(event []byte) (kind, actor, resource string, err error) {
	if k, a, r, ok := canonicalColumns(event); ok {
		return k, a, r, nil
	}
	ev, err := format.ParseEvent(event)
	if err != nil {
		return "", "", "", err
	}
	return column(ev.Kind), column(ev.Actor), column(ev.Resource), nil
}

var (
	keyKind     = []byte(`{"kind":"`)
	keyActor    = []byte(`,"actor":"`)
	keyResource = []byte(`,"resource":"`)
	keyPayload  = []byte(`,"payload":{`)
)

// canonicalColumns reads the members of a canonical event; ok is false if
// event is not one, or if a string has an escape or is not UTF-8.
func canonicalColumns(event []byte) (kind, actor, resource string, ok bool) {
	rest, ok := bytes.CutPrefix(event, keyKind)
	if !ok {
		return
	}
	if kind, rest, ok = plainString(rest); !ok || kind == "" {
		return "", "", "", false
	}
	if r, found := bytes.CutPrefix(rest, keyActor); found {
		if actor, rest, ok = plainString(r); !ok {
			return "", "", "", false
		}
	}
	if r, found := bytes.CutPrefix(rest, keyResource); found {
		if resource, rest, ok = plainString(r); !ok {
			return "", "", "", false
		}
	}
	rest, found := bytes.CutPrefix(rest, keyPayload[:len(keyPayload)-1])
	if n := objectEnd(rest); !found || n < 0 || n != len(rest)-1 || rest[n] != '}' {
		return "", "", "", false
	}
	return column(kind), column(actor), column(resource), true
}

// objectEnd returns the length of the JSON object that b starts with,
// counting brackets outside strings (it does not validate the JSON), or
// -1 if b does not start with a complete one.
func objectEnd(b []byte) int {
	if len(b) == 0 || b[0] != '{' {
		return -1
	}
	depth, inString := 0, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case inString && c == '\\':
			i++
		case inString:
			inString = c != '"'
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			if depth--; depth == 0 {
				return i + 1
			}
		}
	}
	return -1
}

// plainString returns the JSON string that b starts with (after its
// opening quote) and what follows it; ok is false if it has an escape or
// a control character, or is not UTF-8.
func plainString(b []byte) (s string, rest []byte, ok bool) {
	for i, c := range b {
		switch {
		case c == '"':
			if !utf8.Valid(b[:i]) {
				return "", nil, false
			}
			return string(b[:i]), b[i+1:], true
		case c == '\\' || c < 0x20:
			return "", nil, false
		}
	}
	return "", nil, false
}

// column returns s as a query column holds it.
func column(s string) string {
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	}
	if len(s) <= maxColumn {
		return s
	}
	n := maxColumn
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
