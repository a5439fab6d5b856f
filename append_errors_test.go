package sealog

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// Bad events are refused with an error that names what is wrong (and, in
// a batch, which event), and nothing of the call is recorded; payloads in
// every accepted form are stored in their compact canonical encoding.
func TestAppendRefusesBadEvents(t *testing.T) {
	ctx := context.Background()
	k := testKey(t)
	opts := testOptions(t, k)
	opts.MaxEventSize = 256
	l, err := Open(filepath.Join(t.TempDir(), "log"), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ok := Event{Kind: "doc.read", Payload: map[string]any{"id": 1}}
	for _, tc := range []struct {
		name string
		evs  []Event
		want string
	}{
		{"empty kind", []Event{{Payload: json.RawMessage(`{}`)}}, "event kind is empty"},
		{"kind not UTF-8", []Event{{Kind: "a\xff", Payload: json.RawMessage(`{}`)}}, "event kind is not valid UTF-8"},
		{"actor not UTF-8", []Event{{Kind: "k", Actor: "\xff", Payload: nil}}, "event actor is not valid UTF-8"},
		{"raw payload not an object", []Event{{Kind: "k", Payload: json.RawMessage(`[1]`)}}, "payload is not a JSON object"},
		{"raw payload cut short", []Event{{Kind: "k", Payload: json.RawMessage(`{"a":`)}}, "payload is not valid JSON"},
		{"bytes payload not UTF-8", []Event{{Kind: "k", Payload: []byte("{\"a\":\"\xff\"}")}}, "payload is not valid UTF-8"},
		{"Go string payload", []Event{{Kind: "k", Payload: `{"a":1}`}}, "payload is a Go string"},
		{"payload that does not encode", []Event{{Kind: "k", Payload: map[string]any{"c": make(chan int)}}}, "payload: json: unsupported type"},
		{"payload not an object", []Event{{Kind: "k", Payload: []int{1}}}, "not a JSON object"},
		{"over the size limit", []Event{{Kind: "k", Payload: json.RawMessage(`{"a":"` + strings.Repeat("x", 300) + `"}`)}}, "over the 256-byte limit"},
		{"reserved kind", []Event{{Kind: EraseKind, Payload: nil}}, "is reserved for erasure records"},
		{"the second of a batch", []Event{ok, {Kind: "k", Payload: json.RawMessage(`[]`)}}, "event 1: payload is not a JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := size(t, l)
			_, err := l.AppendBatch(ctx, tc.evs)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one that says %q", err, tc.want)
			}
			if after := size(t, l); after != before {
				t.Fatalf("a refused call recorded %d entries", after-before)
			}
		})
	}
	// Accepted forms, stored compact: a nil payload is the empty object.
	for _, tc := range []struct {
		payload any
		want    string
	}{
		{nil, `{}`},
		{json.RawMessage(nil), `{}`},
		{json.RawMessage(" {\n \"a\" : [1, 2] } "), `{"a":[1,2]}`},
		{[]byte(`{"b": {"c": "d"}}`), `{"b":{"c":"d"}}`},
		{map[string]any{"x": "<&>"}, `{"x":"<&>"}`},
	} {
		r, err := l.Append(ctx, Event{Kind: "k", Actor: "a", Payload: tc.payload})
		if err != nil {
			t.Fatalf("payload %#v: %v", tc.payload, err)
		}
		e, err := l.Entry(ctx, r.Seq)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(e.Payload); got != tc.want {
			t.Fatalf("payload %#v stored as %s, want %s", tc.payload, got, tc.want)
		}
	}
}
