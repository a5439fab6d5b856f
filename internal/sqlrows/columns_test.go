package sqlrows

import (
	"strings"
	"testing"

	"github.com/sealog/sealog/format"
)

func TestEventColumns(t *testing.T) {
	long := strings.Repeat("é", 600) // 1200 bytes
	for _, c := range []struct {
		name, event           string
		kind, actor, resource string
		canonical             bool
	}{
		{"all members", `{"kind":"user.login","actor":"alice","resource":"doc/1","payload":{"a":1}}`, "user.login", "alice", "doc/1", true},
		{"kind only", `{"kind":"k","payload":{}}`, "k", "", "", true},
		{"no actor", `{"kind":"k","resource":"r","payload":{}}`, "k", "", "r", true},
		{"unicode", `{"kind":"k","actor":"zoë 👩","payload":{}}`, "k", "zoë 👩", "", true},
		{"escapes", `{"kind":"k","actor":"a\"b\\c\u00e9","payload":{}}`, "k", `a"b\cé`, "", false},
		{"NUL", `{"kind":"k","actor":"a\u0000b","payload":{}}`, "k", "a\uFFFDb", "", false},
		{"another order", `{"actor":"a","kind":"k","payload":{}}`, "k", "a", "", false},
		{"white space", `{"kind": "k", "payload": {}}`, "k", "", "", false},
		{"a member after the payload", `{"kind":"a","payload":{"x":"}"},"kind":"b"}`, "b", "", "", false},
		{"too long", `{"kind":"k","resource":"` + long + `","payload":{}}`, "k", "", long[:1024], true},
	} {
		kind, actor, resource, err := EventColumns([]byte(c.event))
		if err != nil || kind != c.kind || actor != c.actor || resource != c.resource {
			t.Errorf("%s: eventColumns = %q, %q, %q, %v; want %q, %q, %q", c.name, kind, actor, resource, err, c.kind, c.actor, c.resource)
		}
		if _, _, _, ok := canonicalColumns([]byte(c.event)); ok != c.canonical {
			t.Errorf("%s: read in place %t, want %t", c.name, ok, c.canonical)
		}
	}
	if _, _, _, err := EventColumns([]byte(`{"payload":{}}`)); err == nil {
		t.Error("an event without a kind gave columns")
	}
}

// FuzzEventColumns: reading an event in place gives what decoding it in
// full gives.
func FuzzEventColumns(f *testing.F) {
	for _, s := range []string{
		`{"kind":"user.login","actor":"alice","resource":"doc/1","payload":{"a":1}}`,
		`{"kind":"k","payload":{}}`,
		`{"kind":"k","actor":"a\"b","payload":{}}`,
		`{"kind":"k","resource":"\xff","payload":{}}`,
		`{"kind":"a","payload":{"x":"}"},"kind":"b"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, event []byte) {
		k, a, r, ok := canonicalColumns(event)
		if !ok {
			return
		}
		ev, err := format.ParseEvent(event)
		if err != nil {
			return // the payload is not JSON: ParseLine would not have got here
		}
		if k != column(ev.Kind) || a != column(ev.Actor) || r != column(ev.Resource) {
			t.Fatalf("in place %q %q %q, decoded %q %q %q", k, a, r, ev.Kind, ev.Actor, ev.Resource)
		}
	})
}

func TestObjectEnd(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
	}{
		{`{}`, 2},
		{`{}}`, 2},
		{`{"a":"}"}x`, 9},
		{`{"a":"\"}"}`, 11},
		{`{"a":[1,{"b":2}]}`, 17},
		{`{"a":"\\"}`, 10},
		{`{"a":1`, -1},
		{`[]`, -1},
		{``, -1},
	} {
		if got := objectEnd([]byte(c.in)); got != c.want {
			t.Errorf("objectEnd(%s) = %d, want %d", c.in, got, c.want)
		}
	}
}
