package format

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// seedLines adds the test vectors' lines (valid, erased and rejected) to a
// fuzz corpus.
func seedLines(f *testing.F) {
	b, err := os.ReadFile(filepath.Join("..", "testdata", "vectors", "vectors.json"))
	if err != nil {
		f.Fatal(err)
	}
	var v struct {
		Entries []struct{ Line, ErasedLine string } `json:"entries"`
		Reject  []struct{ Line string }             `json:"reject"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		f.Fatal(err)
	}
	for _, e := range v.Entries {
		f.Add([]byte(e.Line))
		f.Add([]byte(e.ErasedLine))
	}
	for _, r := range v.Reject {
		f.Add([]byte(r.Line))
	}
}

// FuzzParseLine: any accepted line re-encodes to exactly the same bytes
// (so a line has one accepted form), and nothing panics.
func FuzzParseLine(f *testing.F) {
	seedLines(f)
	f.Fuzz(func(t *testing.T, line []byte) {
		l, err := ParseLine(line)
		if err != nil {
			return
		}
		enc := AppendLine(nil, &l)
		if !bytes.Equal(enc[:len(enc)-1], line) {
			t.Fatalf("accepted a non-canonical line:\n in: %q\nout: %q", line, enc)
		}
		h := l.Header()
		_ = h.LeafHash()
	})
}

// FuzzParseTime: accepted times round-trip exactly.
func FuzzParseTime(f *testing.F) {
	f.Add([]byte("2026-11-21T08:42:13.123456789Z"))
	f.Add([]byte("1970-01-01T00:00:00.000000000Z"))
	f.Add([]byte("2262-04-11T23:47:16.854775807Z"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ns, err := ParseTime(b)
		if err != nil {
			return
		}
		if got := AppendTime(nil, ns); !bytes.Equal(got, b) {
			t.Fatalf("ParseTime(%q) = %d, which formats as %q", b, ns, got)
		}
	})
}

// FuzzEvent: CompactPayload and AppendEvent either fail or produce an
// event that ParseEvent reads back with the same fields, and
// AppendEventCompact makes the same bytes in one step (or fails alike,
// leaving dst as it was).
func FuzzEvent(f *testing.F) {
	f.Add("user.login", "alice", "doc/1", []byte(`{"a": [1, 2.5, "x"]}`))
	f.Add("k", "", "", []byte(``))
	f.Add("k\n\"", "\x01", "\u2028", []byte(`{"\u00e9":{}}`))
	f.Fuzz(func(t *testing.T, kind, actor, resource string, payload []byte) {
		prefix := []byte("salt")
		one, oneErr := AppendEventCompact(prefix[:len(prefix):len(prefix)], kind, actor, resource, payload)
		if oneErr != nil && string(one) != "salt" {
			t.Fatalf("AppendEventCompact failed (%v) and left %q, not the prefix", oneErr, one)
		}
		p, err := CompactPayload(nil, payload)
		if err != nil {
			if oneErr == nil {
				t.Fatalf("AppendEventCompact accepted a payload CompactPayload refuses (%v)", err)
			}
			return
		}
		ev, err := AppendEvent(nil, kind, actor, resource, p)
		if (err == nil) != (oneErr == nil) {
			t.Fatalf("AppendEvent: %v, AppendEventCompact: %v", err, oneErr)
		}
		if err != nil {
			return
		}
		if string(one[len(prefix):]) != string(ev) {
			t.Fatalf("AppendEventCompact made %q, CompactPayload and AppendEvent %q", one[len(prefix):], ev)
		}
		if !json.Valid(ev) {
			t.Fatalf("invalid JSON event %q", ev)
		}
		got, err := ParseEvent(ev)
		if err != nil || got.Kind != kind || got.Actor != actor || got.Resource != resource {
			t.Fatalf("ParseEvent(%q) = %+v, %v", ev, got, err)
		}
	})
}
