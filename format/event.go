package format

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// Event is the decoded content of an entry: what the body hash commits to.
type Event struct {
	Kind     string          `json:"kind"`
	Actor    string          `json:"actor,omitempty"`
	Resource string          `json:"resource,omitempty"`
	Payload  json.RawMessage `json:"payload"`
}

// AppendEvent appends the canonical event object to dst:
// {"kind":K[,"actor":A][,"resource":R],"payload":P}. payload must already
// be a compact JSON object, as CompactPayload returns it. Kind must be
// non-empty; all strings must be valid UTF-8.
func AppendEvent(dst []byte, kind, actor, resource string, payload []byte) ([]byte, error) {
	out, err := appendEventHead(dst, kind, actor, resource)
	if err != nil {
		return dst, err
	}
	if len(payload) < 2 || payload[0] != '{' {
		return dst, errorf("event payload is not a JSON object")
	}
	out = append(out, payload...)
	return append(out, '}'), nil
}

// AppendEventCompact is AppendEvent for a payload that is any JSON
// object text: it checks and compacts it as CompactPayload does, straight
// into dst, so that an event needs no buffer of its own for the payload.
// On error dst is returned as it was.
func AppendEventCompact(dst []byte, kind, actor, resource string, payload []byte) ([]byte, error) {
	out, err := appendEventHead(dst, kind, actor, resource)
	if err != nil {
		return dst, err
	}
	if out, err = CompactPayload(out, payload); err != nil {
		return dst, err
	}
	return append(out, '}'), nil
}

// appendEventHead checks an event's strings and appends its object up to
// the payload's value.
func appendEventHead(dst []byte, kind, actor, resource string) ([]byte, error) {
	if kind == "" {
		return dst, errorf("event kind is empty")
	}
	for _, f := range [...]struct{ name, v string }{{"kind", kind}, {"actor", actor}, {"resource", resource}} {
		if !utf8.ValidString(f.v) {
			return dst, errorf("event %s is not valid UTF-8", f.name)
		}
	}
	dst = append(dst, `{"kind":`...)
	dst = appendString(dst, kind)
	if actor != "" {
		dst = append(dst, `,"actor":`...)
		dst = appendString(dst, actor)
	}
	if resource != "" {
		dst = append(dst, `,"resource":`...)
		dst = appendString(dst, resource)
	}
	return append(dst, `,"payload":`...), nil
}

// CompactPayload checks that p is one JSON object in valid UTF-8 and
// appends its compact form (no insignificant white space) to dst. An empty
// or nil p is the empty object.
func CompactPayload(dst, p []byte) ([]byte, error) {
	p = bytes.TrimSpace(p)
	if len(p) == 0 {
		return append(dst, '{', '}'), nil
	}
	if p[0] != '{' {
		return dst, errorf("payload is not a JSON object")
	}
	if !utf8.Valid(p) {
		return dst, errorf("payload is not valid UTF-8")
	}
	valid, compact := scanObject(p)
	if compact {
		return append(dst, p...), nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, p); err != nil || !valid {
		return dst, errorf("payload is not valid JSON: %v", errOr(err, "malformed"))
	}
	return append(dst, b.Bytes()...), nil
}

func errOr(err error, s string) string {
	if err != nil {
		return err.Error()
	}
	return s
}

// ParseEvent decodes an event object as stored in a line.
func ParseEvent(b []byte) (Event, error) {
	var e Event
	if err := json.Unmarshal(b, &e); err != nil {
		return e, errorf("event is not valid JSON: %v", err)
	}
	if e.Kind == "" {
		return e, errorf("event has no kind")
	}
	return e, nil
}

// appendString appends s as a JSON string, escaping only what JSON
// requires (quote, backslash, control characters), so that the stored text
// stays readable. s must be valid UTF-8.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
