package format

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestTimeRoundTrip(t *testing.T) {
	for _, ns := range []int64{
		0, 1, 999999999, 1e9, 951782400e9, // 2000-02-29
		time.Date(2026, 11, 21, 8, 42, 13, 123456789, time.UTC).UnixNano(),
		time.Date(2100, 2, 28, 23, 59, 59, 0, time.UTC).UnixNano(),
		MaxTime.Truncate(time.Second).Add(-time.Second).UnixNano(),
	} {
		got := AppendTime(nil, ns)
		want := time.Unix(0, ns).UTC().Format("2006-01-02T15:04:05.000000000Z")
		if string(got) != want {
			t.Errorf("AppendTime(%d) = %s, want %s", ns, got, want)
		}
		back, err := ParseTime(got)
		if err != nil || back != ns {
			t.Errorf("ParseTime(%s) = %d, %v; want %d", got, back, err, ns)
		}
	}
}

func TestParseTimeRejects(t *testing.T) {
	for _, s := range []string{
		"2026-11-21T08:42:13.123456789",    // no Z
		"2026-11-21T08:42:13.12345678Z",    // 8 digits
		"2026-11-21T08:42:13.123456789+00", // offset
		"2026-11-21 08:42:13.123456789Z",   // space
		"2026-02-29T08:42:13.123456789Z",   // not a leap year
		"2026-13-01T00:00:00.000000000Z",
		"2026-00-01T00:00:00.000000000Z",
		"2026-01-32T00:00:00.000000000Z",
		"2026-01-01T24:00:00.000000000Z",
		"2026-01-01T00:60:00.000000000Z",
		"2026-01-01T00:00:60.000000000Z",
		"1969-12-31T23:59:59.999999999Z",
		"2262-04-12T00:00:00.000000000Z",
		"2026-1a-01T00:00:00.000000000Z",
		"+026-01-01T00:00:00.000000000Z",
	} {
		if _, err := ParseTime([]byte(s)); err == nil {
			t.Errorf("ParseTime(%q) accepted", s)
		}
	}
}

func sampleLine() Line {
	l := Line{Seq: 42, Time: 1763714533123456789}
	for i := range l.Prev {
		l.Prev[i] = byte(i)
	}
	for i := range l.Salt {
		l.Salt[i] = byte(0xf0 + i)
	}
	l.Event = []byte(`{"kind":"user.login","actor":"alice","payload":{"ip":"203.0.113.9"}}`)
	return l
}

func TestLineRoundTrip(t *testing.T) {
	live := sampleLine()
	signed := sampleLine()
	signed.Sig = bytes.Repeat([]byte{7}, 68)
	erased := sampleLine()
	erased.Erased, erased.Event, erased.Salt = true, nil, [SaltSize]byte{}
	erased.BodyHash = live.ComputeBodyHash()
	erasedSigned := erased
	erasedSigned.Sig = signed.Sig
	for _, tc := range []struct {
		name string
		l    Line
	}{{"live", live}, {"signed", signed}, {"erased", erased}, {"erased+signed", erasedSigned}} {
		t.Run(tc.name, func(t *testing.T) {
			enc := AppendLine(nil, &tc.l)
			if enc[len(enc)-1] != '\n' || bytes.Count(enc, []byte{'\n'}) != 1 {
				t.Fatalf("encoding is not one line: %q", enc)
			}
			got, err := ParseLine(enc[:len(enc)-1])
			if err != nil {
				t.Fatalf("ParseLine(%s): %v", enc, err)
			}
			if got.Seq != tc.l.Seq || got.Time != tc.l.Time || got.Prev != tc.l.Prev || got.Erased != tc.l.Erased ||
				!bytes.Equal(got.Event, tc.l.Event) || !bytes.Equal(got.Sig, tc.l.Sig) || got.Salt != tc.l.Salt {
				t.Fatalf("round trip changed the line:\n got %+v\nwant %+v", got, tc.l)
			}
			if got.Header() != tc.l.Header() {
				t.Fatal("header differs")
			}
			if again := AppendLine(nil, &got); !bytes.Equal(again, enc) {
				t.Fatalf("re-encoding differs:\n%s\n%s", again, enc)
			}
		})
	}
	// An erased line keeps the live line's leaf hash.
	h1, h2 := live.Header(), erased.Header()
	if h1.LeafHash() != h2.LeafHash() {
		t.Fatal("erasing changed the leaf hash")
	}
}

func TestParseLineRejects(t *testing.T) {
	l := sampleLine()
	l.Sig = bytes.Repeat([]byte{9}, 68)
	good := string(AppendLine(nil, &l))
	good = good[:len(good)-1]
	if _, err := ParseLine([]byte(good)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, from, to, field string
	}{
		{"space", `{"seq":42,`, `{"seq": 42,`, "seq"},
		{"leading zero", `{"seq":42,`, `{"seq":042,`, "seq"},
		{"negative", `{"seq":42,`, `{"seq":-42,`, "seq"},
		{"seq too large", `{"seq":42,`, `{"seq":18446744073709551616,`, "seq"},
		{"member order", `{"seq":42,"time"`, `{"time"`, "line"},
		{"time offset", `789Z"`, `789+00:00"`, "time"},
		{"upper hex prev", `"prev":"00`, `"prev":"0A`, "prev"},
		{"short salt", `"salt":"f0`, `"salt":"`, "salt"},
		{"event not object", `"event":{`, `"event":[{`, "event"},
		{"sig not base64", `"sig":"`, `"sig":"!`, "sig"},
		{"sig not last", `,"sig":"`, `,"sog":"`, "event"},
		{"unknown member", `"salt":`, `"salty":`, "line"},
		{"trailing space", `="}`, `=" }`, "event"},
		{"erased bad hash", `"salt":"f0`, `"body_hash":"f0`, "body_hash"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := strings.Replace(good, tc.from, tc.to, 1)
			if bad == good {
				t.Fatalf("test case does not change the line")
			}
			_, err := ParseLine([]byte(bad))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("ParseLine(%s) = %v, want a ParseError", bad, err)
			}
			if pe.Field != tc.field {
				t.Errorf("field %q, want %q (%v)", pe.Field, tc.field, err)
			}
		})
	}
}

func TestEventEncoding(t *testing.T) {
	for _, tc := range []struct {
		name, kind, actor, resource, payload, want, err string
	}{
		{"minimal", "k", "", "", "", `{"kind":"k","payload":{}}`, ""},
		{"all", "user.login", "alice", "doc/1", `{"a": 1}`, `{"kind":"user.login","actor":"alice","resource":"doc/1","payload":{"a":1}}`, ""},
		{"escapes", "q\"\\\n\x01<&>\u2028", "", "", `{}`, `{"kind":"q\"\\\n\u0001<&>` + "\u2028" + `","payload":{}}`, ""},
		{"empty kind", "", "", "", "", "", "kind is empty"},
		{"bad utf8", "k", "\xff", "", "", "", "actor is not valid UTF-8"},
		{"array payload", "k", "", "", `[1]`, "", "not a JSON object"},
		{"bad json", "k", "", "", `{"a":}`, "", "not valid JSON"},
		{"bad json compact", "k", "", "", `{"a" :}`, "", "not valid JSON"},
		{"bad utf8 payload", "k", "", "", "{\"a\":\"\xff\"}", "", "not valid UTF-8"},
		{"string with spaces", "k", "", "", `{"a":"x y\n"}`, `{"kind":"k","payload":{"a":"x y\n"}}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := CompactPayload(nil, []byte(tc.payload))
			var out []byte
			if err == nil {
				out, err = AppendEvent(nil, tc.kind, tc.actor, tc.resource, p)
			}
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || string(out) != tc.want {
				t.Fatalf("got %s, %v; want %s", out, err, tc.want)
			}
			ev, err := ParseEvent(out)
			if err != nil || ev.Kind != tc.kind || ev.Actor != tc.actor || ev.Resource != tc.resource {
				t.Fatalf("ParseEvent(%s) = %+v, %v", out, ev, err)
			}
		})
	}
}

func TestHeaderEncoding(t *testing.T) {
	l := sampleLine()
	h := l.Header()
	enc := h.Encode()
	if enc[0] != Version || len(enc) != 81 {
		t.Fatal("bad header encoding")
	}
	back, err := DecodeHeader(enc[:])
	if err != nil || back != h {
		t.Fatal("header round trip")
	}
	enc[0] = 2
	if _, err := DecodeHeader(enc[:]); err == nil {
		t.Fatal("accepted version 2")
	}
	if _, err := DecodeHeader(enc[:80]); err == nil {
		t.Fatal("accepted a short header")
	}
}
