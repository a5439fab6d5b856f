package server

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// FuzzParseEvents holds the strict parser to encoding/json: whatever it
// accepts is valid JSON, in valid UTF-8, that encoding/json decodes to
// the same events.
func FuzzParseEvents(f *testing.F) {
	for _, s := range []string{
		`{"kind":"a"}`, `[{"kind":"a","actor":"b","resource":"c","payload":{"x":[1,2.5e3,"\u00e9"]}}]`,
		`{"kind":"a","payload":{"a":{"b":{"c":null}}}}`, `{"kind":"\ud83d\ude00"}`, `{"kind":"a","kind":"b"}`,
		`[{"kind":"x","payload":null},{"kind":"y","actor":null}]`, `{"kind":"a\"b\\c\/"}`, ` [ {"kind" : "a" } ] `,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := parseEvents(b, 100, 16, 1<<20)
		if err != nil {
			return
		}
		if !json.Valid(b) || !utf8.Valid(b) {
			t.Fatalf("accepted invalid JSON or UTF-8: %q", b)
		}
		type ev struct {
			Kind, Actor, Resource string
			Payload               json.RawMessage
		}
		var evs []ev
		if req.array {
			if err := json.Unmarshal(b, &evs); err != nil {
				t.Fatalf("encoding/json: %v", err)
			}
		} else {
			var e ev
			if err := json.Unmarshal(b, &e); err != nil {
				t.Fatalf("encoding/json: %v", err)
			}
			evs = []ev{e}
		}
		if len(evs) != len(req.events) {
			t.Fatalf("%d events, encoding/json %d", len(req.events), len(evs))
		}
		for i, e := range evs {
			got := req.events[i]
			if got.Kind != e.Kind || got.Actor != e.Actor || got.Resource != e.Resource {
				t.Fatalf("event %d: %+v, encoding/json %+v", i, got, e)
			}
		}
	})
}
