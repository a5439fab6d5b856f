package server

import (
	"encoding/json"
	"fmt"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/format"
)

// request is a checked POST /v1/entries body.
type request struct {
	events []sealog.Event
	// canon[i] is event i's canonical encoding, the bytes the log commits
	// to (format.AppendEvent): for idempotency digests and size limits.
	canon [][]byte
	array bool // the body was an array (else one event object)
	// The payloads and the canonical encodings, back to back: one
	// allocation (or a few) per request, not two per event.
	payloads, canons []byte
}

// parseEvents parses a request body: one event object, or a non-empty
// array of at most maxEvents of them. Every event member is checked as
// the API documents: kind a non-empty string, actor and resource strings
// (or null), payload an object (or null), no other member, no duplicate
// anywhere, valid UTF-8, nesting at most maxDepth.
func parseEvents(body []byte, maxEvents, maxDepth, maxEventSize int) (*request, *apiError) {
	s := &scanner{b: body, maxDepth: maxDepth}
	req := &request{payloads: make([]byte, 0, len(body)), canons: make([]byte, 0, len(body)+len(body)/4+64)}
	s.ws()
	var err *apiError
	switch s.peek() {
	case '{':
		err = s.event(req)
	case '[':
		req.array = true
		err = s.elements(func(i int) *apiError {
			if i >= maxEvents {
				return &apiError{status: 413, code: "too_many_events", msg: fmt.Sprintf("more than %d events in one request: split it", maxEvents)}
			}
			return s.event(req)
		})
		if err == nil && len(req.events) == 0 {
			err = badRequest("", "the array holds no events")
		}
	case 0:
		err = badRequest("", "the body is empty: send an event object or an array of them")
	default:
		err = badRequest("", "the body must be an event object or an array of event objects")
	}
	if err != nil {
		return nil, err
	}
	s.ws()
	if s.i != len(body) {
		return nil, s.errf("invalid JSON: data after the end of the value at offset %d", s.i)
	}
	for i := range req.events {
		if n := len(req.canon[i]); n > maxEventSize {
			f := ""
			if req.array {
				f = fmt.Sprintf("[%d]", i)
			}
			return nil, &apiError{status: 413, code: "event_too_large", field: f,
				msg: fmt.Sprintf("the event is %d bytes encoded, over the %d-byte limit", n, maxEventSize)}
		}
	}
	return req, nil
}

// event parses one event object at s.i and appends it to req.
func (s *scanner) event(req *request) *apiError {
	if s.peek() != '{' {
		return s.errf("an event must be a JSON object")
	}
	var ev sealog.Event
	var payload []byte
	var hasKind bool
	err := s.object(func(key []byte) *apiError {
		switch string(key) {
		case "kind", "actor", "resource":
			v, err := s.stringOrNull()
			if err != nil {
				return err
			}
			switch key[0] {
			case 'k':
				ev.Kind, hasKind = v, true
			case 'a':
				ev.Actor = v
			default:
				ev.Resource = v
			}
			return nil
		case "payload":
			start := s.i
			switch s.peek() {
			case 'n':
				return s.lit("null")
			case '{':
			default:
				return s.errf("must be a JSON object (or null)")
			}
			if err := s.object(nil); err != nil {
				return err
			}
			payload = s.b[start:s.i]
			return nil
		}
		return s.errf("unknown member (an event has kind, actor, resource and payload)")
	})
	if err != nil {
		return err
	}
	// Errors below name the event's own fields.
	s.path = append(s.path, seg{key: []byte("kind")})
	defer func() { s.path = s.path[:len(s.path)-1] }()
	switch {
	case !hasKind || ev.Kind == "":
		return s.errf("required: a non-empty string such as \"user.login\"")
	case ev.Kind == sealog.EraseKind:
		return s.errf("%q is reserved for the log's erasure records", sealog.EraseKind)
	case ev.Kind == sealog.PruneKind:
		return s.errf("%q is reserved for the log's prune records", sealog.PruneKind)
	}
	start := len(req.payloads)
	var cerr error
	req.payloads, cerr = format.CompactPayload(req.payloads, payload)
	if cerr != nil {
		s.path[len(s.path)-1] = seg{key: []byte("payload")}
		return s.errf("%v", cerr)
	}
	compact := req.payloads[start:len(req.payloads):len(req.payloads)]
	start = len(req.canons)
	req.canons, cerr = format.AppendEvent(req.canons, ev.Kind, ev.Actor, ev.Resource, compact)
	if cerr != nil {
		return s.errf("%v", cerr)
	}
	canon := req.canons[start:len(req.canons):len(req.canons)]
	ev.Payload = json.RawMessage(compact)
	req.events = append(req.events, ev)
	req.canon = append(req.canon, canon)
	return nil
}

// stringOrNull reads a string member's value; null is "".
func (s *scanner) stringOrNull() (string, *apiError) {
	if s.peek() == 'n' {
		return "", s.lit("null")
	}
	if s.peek() != '"' {
		return "", s.errf("must be a JSON string")
	}
	raw, _, err := s.str()
	if err != nil {
		return "", err
	}
	v, _ := unescape(raw)
	return string(v), nil
}
