package format

import "testing"

func TestRotationRoundTrip(t *testing.T) {
	const next, prev = "example.com/audit+aaaaaaaa+AeIvB0bnU=", "example.com/audit+bbbbbbbb+AfXy/9+z=="
	ev := AppendRotationEvent(nil, next, prev)
	want := `{"kind":"sealog.rotate","payload":{"key":"` + next + `","prev":"` + prev + `"}}`
	if string(ev) != want {
		t.Fatalf("event = %s, want %s", ev, want)
	}
	r, ok := ParseRotation(ev)
	if !ok || r.Key != next || r.Prev != prev {
		t.Fatalf("ParseRotation = %+v, %v", r, ok)
	}
	if err := CheckRotationKeys(next, prev); err != nil {
		t.Fatal(err)
	}
}

func TestParseRotationRejects(t *testing.T) {
	for _, ev := range []string{
		`{"kind":"sealog.rotate","payload":{"key":"a","prev":"b"},"x":1}`,
		`{"kind":"sealog.rotate","payload":{"prev":"b","key":"a"}}`,
		`{"kind":"sealog.rotate","payload":{"key":"","prev":"b"}}`,
		`{"kind":"sealog.rotate","payload":{"key":"a\\u0041","prev":"b"}}`,
		`{"kind":"sealog.rotate","payload":{"key":"a b","prev":"b"}}`,
		`{"kind":"sealog.rotate","actor":"x","payload":{"key":"a","prev":"b"}}`,
		`{"kind":"sealog.rotate","payload":{"key":"a","prev":"b"} }`,
		`{"kind":"sealog.rotate","payload":{"key":"a","prev":"b"}`,
		`{"kind":"user.login","payload":{"key":"a","prev":"b"}}`,
	} {
		if r, ok := ParseRotation([]byte(ev)); ok {
			t.Errorf("ParseRotation(%s) = %+v, want not a record", ev, r)
		}
	}
	for _, c := range [][2]string{{"a", "a"}, {"a\"", "b"}, {"a", ""}, {"é", "b"}} {
		if CheckRotationKeys(c[0], c[1]) == nil {
			t.Errorf("CheckRotationKeys(%q, %q) = nil", c[0], c[1])
		}
	}
}

func FuzzParseRotation(f *testing.F) {
	f.Add([]byte(`{"kind":"sealog.rotate","payload":{"key":"k+1+A","prev":"k+2+B"}}`))
	f.Fuzz(func(t *testing.T, ev []byte) {
		r, ok := ParseRotation(ev)
		if !ok {
			return
		}
		if got := AppendRotationEvent(nil, r.Key, r.Prev); string(got) != string(ev) {
			t.Fatalf("not canonical: %s re-encodes as %s", ev, got)
		}
	})
}
