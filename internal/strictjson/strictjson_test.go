package strictjson

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

type inner struct {
	Seq   uint64   `json:"seq"`
	Line  string   `json:"line"`
	Proof []string `json:"proof"`
}

type doc struct {
	Version string            `json:"bundle"`
	Entries []inner           `json:"entries"`
	Created time.Time         `json:"created"`
	Extra   map[string]string `json:"extra,omitempty"`
	Any     any               `json:"any,omitempty"`
	Raw     json.RawMessage   `json:"raw,omitempty"`
	Skipped string            `json:"-"`
}

func TestUnmarshal(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		err      string // "" means accepted
	}{
		{"plain", `{"bundle":"v","entries":[{"seq":1,"line":"x","proof":[]}]}`, ""},
		{"white space", " {\n\"bundle\" : \"v\" } \n", ""},
		{"map members free", `{"extra":{"A":"1","a":"2"}}`, ""},
		{"interface members free", `{"any":{"X":1,"x":{"y":[1]}}}`, ""},
		{"raw message", `{"raw":{"Z":1}}`, ""},
		{"time", `{"created":"2026-11-21T08:42:13Z"}`, ""},
		{"paired surrogates", `{"bundle":"\ud83d\ude00"}`, ""},
		{"genuine U+FFFD", `{"bundle":"\ufffd"}`, ""},
		{"escaped backslash then u", `{"bundle":"\\ud800"}`, ""},

		{"other case at the top", `{"BUNDLE":"v"}`, `unknown member "BUNDLE"`},
		{"other case inside", `{"entries":[{"SEQ":1}]}`, `unknown member "SEQ" in entries[0]`},
		{"unknown member", `{"bundle":"v","comment":"x"}`, `unknown member "comment"`},
		{"ignored field by name", `{"Skipped":"x"}`, `unknown member "Skipped"`},
		{"duplicate", `{"bundle":"a","bundle":"b"}`, `member "bundle" appears twice`},
		{"duplicate after unescaping", `{"bundle":"a","\u0062undle":"b"}`, `appears twice`},
		{"duplicate inside an entry", `{"entries":[{"line":"a","line":"b"}]}`, `appears twice in entries[0]`},
		{"duplicate in a map", `{"extra":{"a":"1","a":"2"}}`, `appears twice in extra`},
		{"duplicate in a raw message", `{"raw":{"a":1,"a":2}}`, `appears twice in raw`},
		{"duplicate deep in any", `{"any":[{"a":[{"b":1,"b":1}]}]}`, `appears twice`},
		{"trailing data", `{"bundle":"v"} {}`, "data after"},
		{"trailing garbage", `{"bundle":"v"}x`, "data after"},
		{"BOM", "\uFEFF{\"bundle\":\"v\"}", "malformed JSON"},
		{"invalid UTF-8", "{\"bundle\":\"\xff\"}", "UTF-8"},
		{"lone high surrogate", `{"bundle":"\ud800"}`, "surrogate"},
		{"lone low surrogate", `{"bundle":"\udc00x"}`, "surrogate"},
		{"NaN", `{"any":NaN}`, "malformed JSON"},
		{"empty", ``, "malformed JSON"},
		{"type error", `{"bundle":1}`, "cannot unmarshal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var d doc
			err := Unmarshal([]byte(tc.in), &d)
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("rejected: %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("got %v, want an error containing %q", err, tc.err)
			}
		})
	}
}

func TestDeepNesting(t *testing.T) {
	in := `{"any":` + strings.Repeat("[", MaxDepth+5) + strings.Repeat("]", MaxDepth+5) + `}`
	var d doc
	if err := Unmarshal([]byte(in), &d); err == nil || !strings.Contains(err.Error(), "too deep") {
		t.Fatalf("got %v", err)
	}
}

// FuzzUnmarshal holds Unmarshal to encoding/json: whatever it accepts,
// encoding/json accepts with the same result, and the document has no
// duplicate member anywhere and no member name outside the struct's.
func FuzzUnmarshal(f *testing.F) {
	for _, s := range []string{
		`{"bundle":"v","entries":[{"seq":1,"line":"x","proof":["a"]}]}`,
		`{"bundle":"a","BUNDLE":"b"}`, `{"entries":[{"line":"a","line":"b"}]}`,
		`{"any":{"a":1,"b":[1,2,{"c":null}]}}`, `{"raw":{"a":"\ud83d\ude00"}}`, `{"created":"2026-11-21T08:42:13Z"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var got doc
		if err := Unmarshal(data, &got); err != nil {
			return
		}
		var want doc
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatalf("accepted what encoding/json rejects (%v): %q", err, data)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("decodes differently: %+v vs %+v", got, want)
		}
		var generic any
		dec := json.NewDecoder(strings.NewReader(string(data)))
		if err := dec.Decode(&generic); err != nil {
			t.Fatal(err)
		}
		if m, ok := generic.(map[string]any); ok {
			for k := range m {
				if _, ok := fieldsOf(reflect.TypeFor[doc]())[k]; !ok {
					t.Fatalf("accepted the unknown member %q", k)
				}
			}
		}
	})
}
