package main

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzParseEvent: parseEvent reads untrusted stdin lines. It must never
// panic, and whatever it accepts must be valid JSON that encoding/json
// reads as the same event, with the payload compacted unchanged.
func FuzzParseEvent(f *testing.F) {
	for _, s := range []string{
		`{"kind":"user.login","actor":"alice","resource":"doc/1","payload":{"ip":"203.0.113.9","n":[1,2.5e3,null]}}`,
		`{"kind":"k"}`,
		` { "payload" : { } , "kind" : "k\u00e9\n" } `,
		`{"kind":"k","extra":1}`,
		`{"kind":"k","kind":"j"}`,
		`{"kind":1}`,
		`[1]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		ev, _, err := parseEvent(line, nil)
		if err != nil {
			return
		}
		if !json.Valid(line) {
			t.Fatalf("accepted invalid JSON %q", line)
		}
		var want struct {
			Kind     string          `json:"kind"`
			Actor    string          `json:"actor"`
			Resource string          `json:"resource"`
			Payload  json.RawMessage `json:"payload"`
		}
		if err := json.Unmarshal(line, &want); err != nil {
			t.Fatalf("accepted %q, which encoding/json refuses: %v", line, err)
		}
		if ev.kind != want.Kind || ev.actor != want.Actor || ev.resource != want.Resource {
			t.Fatalf("%q: got %q %q %q, encoding/json reads %q %q %q", line, ev.kind, ev.actor, ev.resource, want.Kind, want.Actor, want.Resource)
		}
		if len(want.Payload) > 0 && !bytes.Equal(want.Payload, []byte("null")) {
			var b bytes.Buffer
			json.Compact(&b, want.Payload)
			if !bytes.Equal(ev.payload, b.Bytes()) {
				t.Fatalf("%q: payload %q, want %q", line, ev.payload, b.Bytes())
			}
		}
	})
}
