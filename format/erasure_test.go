package format

import (
	"strings"
	"testing"
)

func TestParseErasure(t *testing.T) {
	var h Hash
	for i := range h {
		h[i] = byte(i)
	}
	hx := string(AppendHex(nil, h[:]))
	good := string(AppendErasureEvent(nil, 4, h, "", "GDPR request 42"))
	if want := `{"kind":"sealog.erase","resource":"entry/4","payload":{"body_hash":"` + hx + `","reason":"GDPR request 42","seq":4}}`; good != want {
		t.Fatalf("AppendErasureEvent:\n got %s\nwant %s", good, want)
	}
	for _, tc := range []struct {
		name, event string
		ok          bool
	}{
		{"the writer's form", good, true},
		{"with an actor", string(AppendErasureEvent(nil, 4, h, "dpo@example.com", "r")), true},
		{"escapes in the reason", strings.Replace(good, "GDPR request 42", `a \"q\" \\ \/ \n \u00e9 \uD83D\uDE00`, 1), true},
		{"raw UTF-8 in the reason", strings.Replace(good, "GDPR request 42", "é ✓", 1), true},
		{"an empty reason", strings.Replace(good, `"GDPR request 42"`, `""`, 1), true},
		{"seq 0", string(AppendErasureEvent(nil, 0, h, "", "r")), true},
		{"the largest seq", string(AppendErasureEvent(nil, MaxSeq, h, "", "r")), true},

		{"seqs differ", strings.Replace(good, `"seq":4}`, `"seq":5}`, 1), false},
		{"a leading zero", strings.Replace(good, "entry/4", "entry/04", 1), false},
		{"a seq beyond MaxSeq", strings.ReplaceAll(good, "4", "9223372036854775807"), false},
		{"upper-case hex", strings.Replace(good, hx, strings.ToUpper(hx), 1), false},
		{"a short hash", strings.Replace(good, hx, hx[:62], 1), false},
		{"another kind", strings.Replace(good, "sealog.erase", "sealog.erased", 1), false},
		{"white space", strings.Replace(good, `"reason":`, `"reason": `, 1), false},
		{"members reordered", `{"kind":"sealog.erase","resource":"entry/4","payload":{"seq":4,"body_hash":"` + hx + `","reason":"r"}}`, false},
		{"an extra member", strings.Replace(good, `"reason"`, `"x":1,"reason"`, 1), false},
		{"a control character in the reason", strings.Replace(good, "GDPR", "GD\nPR", 1), false},
		{"a bad escape", strings.Replace(good, "GDPR", `GD\xPR`, 1), false},
		{"a short \\u escape", strings.Replace(good, "GDPR", `GD\u12`, 1), false},
		{"a reason that is not a string", strings.Replace(good, `"GDPR request 42"`, `42`, 1), false},
		{"trailing bytes", good + " ", false},
		{"no actor value", strings.Replace(good, `,"resource"`, `,"actor":,"resource"`, 1), false},
	} {
		e, ok := ParseErasure([]byte(tc.event))
		if ok != tc.ok {
			t.Errorf("%s: ParseErasure(%s) = %v, want %v", tc.name, tc.event, ok, tc.ok)
			continue
		}
		if ok && (e.BodyHash != h || e.Seq > MaxSeq) {
			t.Errorf("%s: got %+v", tc.name, e)
		}
	}
}

// FuzzParseErasure: whatever it accepts, AppendErasureEvent writes back
// with the same seq and hash (for an event without actor and escapes).
func FuzzParseErasure(f *testing.F) {
	var h Hash
	f.Add(AppendErasureEvent(nil, 4, h, "", "r"))
	f.Add(AppendErasureEvent(nil, 9, h, "a", "x\ny"))
	f.Fuzz(func(t *testing.T, ev []byte) {
		e, ok := ParseErasure(ev)
		if !ok {
			return
		}
		again, ok := ParseErasure(AppendErasureEvent(nil, e.Seq, e.BodyHash, "", "r"))
		if !ok || again != e {
			t.Fatalf("%q: %+v then %+v", ev, e, again)
		}
	})
}

func TestLineLimits(t *testing.T) {
	// A line of exactly MaxLineSize bytes with its newline is accepted;
	// one more byte is not.
	var l Line
	l.Event = []byte(`{"kind":"k","payload":{"p":""}}`)
	base := len(AppendLine(nil, &l))
	pad := MaxLineSize - base
	l.Event = []byte(`{"kind":"k","payload":{"p":"` + strings.Repeat("x", pad) + `"}}`)
	line := AppendLine(nil, &l)
	if len(line) != MaxLineSize {
		t.Fatalf("built a line of %d bytes", len(line))
	}
	if _, err := ParseLine(line[:len(line)-1]); err != nil {
		t.Fatalf("a line of exactly 4 MiB with its newline: %v", err)
	}
	l.Event = []byte(`{"kind":"k","payload":{"p":"` + strings.Repeat("x", pad+1) + `"}}`)
	line = AppendLine(nil, &l)
	if _, err := ParseLine(line[:len(line)-1]); err == nil {
		t.Fatal("a line of 4 MiB + 1 byte with its newline was accepted")
	}
	// The last second a leaf header holds is a time; the next is not.
	for _, tc := range []struct {
		text string
		ok   bool
	}{
		{"2262-04-11T23:47:16.854775807Z", true},
		{"2262-04-11T23:47:16.000000000Z", true},
		{"2262-04-11T23:47:16.854775808Z", false},
		{"2262-04-11T23:47:17.000000000Z", false},
	} {
		if _, err := ParseTime([]byte(tc.text)); (err == nil) != tc.ok {
			t.Errorf("ParseTime(%s): %v, want ok=%v", tc.text, err, tc.ok)
		}
	}
	// Seqs stop at MaxSeq, signatures are 68 bytes.
	for _, tc := range []struct {
		seq string
		ok  bool
	}{{"9223372036854775806", true}, {"9223372036854775807", false}, {"18446744073709551615", false}} {
		line := `{"seq":` + tc.seq + `,"time":"2026-11-21T08:42:13.123456789Z","prev":"` + strings.Repeat("0", 64) + `","body_hash":"` + strings.Repeat("0", 64) + `"}`
		if _, err := ParseLine([]byte(line)); (err == nil) != tc.ok {
			t.Errorf("seq %s: %v, want ok=%v", tc.seq, err, tc.ok)
		}
	}
}
