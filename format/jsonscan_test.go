package format

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestScanObject(t *testing.T) {
	for _, tc := range []struct {
		in             string
		valid, compact bool
	}{
		{`{}`, true, true},
		{`{"a":1}`, true, true},
		{`{"a":[1,2.5e-3,-0,true,false,null,"x\u00e9\n",{}]}`, true, true},
		{`{"a": 1}`, true, false},
		{"{\"a\":1}\n", true, false},
		{`{"a":"x y"}`, true, true},
		{`{"a":01}`, false, false},
		{`{"a":1.}`, false, false},
		{`{"a":.5}`, false, false},
		{`{"a":1e}`, false, false},
		{`{"a":-}`, false, false},
		{`{"a":"\x"}`, false, false},
		{`{"a":"\u12"}`, false, false},
		{"{\"a\":\"\x01\"}", false, false},
		{`{"a":1,}`, false, false},
		{`{,}`, false, false},
		{`{"a"}`, false, false},
		{`{"a":1}{}`, false, false},
		{`{"a":1]`, false, false},
		{`[1]`, false, false},
		{`{"a":[1}`, false, false},
		{`{"a":tru}`, false, false},
		{`{1:2}`, false, false},
		{`{"a":{"b":[[]]}}`, true, true},
		{`{`, false, false},
		{`{"a":"`, false, false},
	} {
		v, c := scanObject([]byte(tc.in))
		if v != tc.valid || c != tc.compact {
			t.Errorf("scanObject(%q) = %v, %v; want %v, %v", tc.in, v, c, tc.valid, tc.compact)
		}
		if v != json.Valid([]byte(tc.in)) && strings.HasPrefix(tc.in, "{") {
			t.Errorf("scanObject(%q) disagrees with json.Valid", tc.in)
		}
	}
	// Nesting past the scanner's small stack array, mixed brackets.
	for _, d := range []int{63, 64, 65, 200, maxDepth} {
		in := strings.Repeat(`{"a":[`, d/2) + "1" + strings.Repeat("]}", d/2)
		if v, c := scanObject([]byte(in)); !v || !c {
			t.Errorf("nesting %d: scanObject = %v, %v", d, v, c)
		}
		bad := strings.Repeat(`{"a":[`, d/2) + "1" + strings.Repeat("}]", d/2)
		if v, _ := scanObject([]byte(bad)); v {
			t.Errorf("nesting %d with crossed brackets accepted", d)
		}
	}
	deep := strings.Repeat(`{"a":`, maxDepth+1) + "1" + strings.Repeat("}", maxDepth+1)
	if v, _ := scanObject([]byte(deep)); v {
		t.Error("accepted nesting beyond maxDepth")
	}
}

// FuzzScanObject holds scanObject to encoding/json's verdict on objects.
func FuzzScanObject(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":[1,-2.5E+3,"\u00e9\\"]}`, `{"a" : {"b":null} }`, "{\"k\":\"\t\"}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		valid, compact := scanObject(p)
		trimmed := bytes.TrimLeft(p, " \t\r\n")
		want := json.Valid(p) && len(trimmed) > 0 && trimmed[0] == '{' && len(trimmed) == len(p)
		if valid != want {
			t.Fatalf("scanObject(%q) valid = %v, json.Valid says %v", p, valid, want)
		}
		if valid {
			var b bytes.Buffer
			json.Compact(&b, p)
			if compact != bytes.Equal(b.Bytes(), p) {
				t.Fatalf("scanObject(%q) compact = %v, json.Compact disagrees", p, compact)
			}
		}
	})
}

func BenchmarkScanObject(b *testing.B) {
	p := []byte(`{"ip":"203.0.1.2","method":"password","session":"0123456789abcdef01234567","success":true,"ts":"2026-11-21T08:42:13.1731Z","user_agent":"Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}`)
	b.SetBytes(int64(len(p)))
	b.Run("scanObject", func(b *testing.B) {
		for b.Loop() {
			scanObject(p)
		}
	})
	b.Run("json.Valid", func(b *testing.B) {
		for b.Loop() {
			json.Valid(p)
		}
	})
}
