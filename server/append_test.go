package server

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/sealog/sealog/bundle"
	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/verify"
)

func TestAppendReceiptsVerify(t *testing.T) {
	ts := newTestServer(t, Config{})
	for _, body := range []string{`{"kind":"user.login","actor":"alice","payload":{"ip":"203.0.113.9"}}`, events(7), `[{"kind":"x","resource":"r/1","payload":null,"actor":null}]`} {
		resp := ts.appendOK(body, nil)
		for _, r := range resp.Receipts {
			vr := verify.Receipt{Seq: r.Seq, Time: r.Time, LeafHash: r.LeafHash, Checkpoint: r.Checkpoint, Proof: r.Proof}
			if _, err := verify.VerifyReceipt(vr, ts.vkey); err != nil {
				t.Errorf("receipt %d: %v", r.Seq, err)
			}
			l, err := format.ParseLine([]byte(r.Line))
			if err != nil {
				t.Fatalf("receipt %d: line: %v", r.Seq, err)
			}
			if h := l.Header(); h.LeafHash() != r.LeafHash {
				t.Errorf("receipt %d: the line does not hash to the leaf", r.Seq)
			}
		}
		// The receipts are what encoding/json would decode as verify.Receipt.
		code, _, b := ts.do(call{method: "POST", path: "/v1/entries", token: ts.tokens[RoleAppend], body: body})
		if code != 200 {
			t.Fatalf("%d %s", code, b)
		}
		var std struct{ Receipts []verify.Receipt }
		if err := json.Unmarshal(b, &std); err != nil {
			t.Fatal(err)
		}
		for _, r := range std.Receipts {
			if _, err := verify.VerifyReceipt(r, ts.vkey); err != nil {
				t.Errorf("receipt %d decoded as verify.Receipt: %v", r.Seq, err)
			}
		}
	}
}

func TestAppendTlogProofText(t *testing.T) {
	ts := newTestServer(t, Config{})
	ts.appendOK(events(3), nil)
	for _, c := range []call{
		{method: "POST", path: "/v1/entries?format=tlog-proof", body: events(2)},
		{method: "POST", path: "/v1/entries", body: `{"kind":"one"}`, header: map[string]string{"Accept": TlogProofType}},
	} {
		c.token = ts.tokens[RoleAppend]
		code, h, b := ts.do(c)
		if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), TlogProofType) {
			t.Fatalf("%s: %d %s %s", c.path, code, h.Get("Content-Type"), b)
		}
		proofs := bytes.Split(b, []byte("\n"+bundle.InclusionHeader))
		for i, p := range proofs {
			if i > 0 {
				p = append([]byte(bundle.InclusionHeader), p...)
			}
			ip, err := bundle.ParseInclusionProof(p)
			if err != nil {
				t.Fatalf("proof %d: %v\n%s", i, err, p)
			}
			if res, err := ip.Verify(ts.vkey); err != nil || !res.Valid {
				t.Errorf("proof %d does not verify: %v %+v", i, err, res)
			}
		}
	}
}

// TestBadBodies: each bad body gets a 4xx naming what is wrong, and
// nothing is written.
func TestBadBodies(t *testing.T) {
	ts := newTestServer(t, Config{MaxBodyBytes: 2 << 20, MaxEvents: 1000, MaxEventSize: 4096, MaxDepth: 8})
	ts.appendOK(`{"kind":"first"}`, nil)
	deep := strings.Repeat(`{"a":`, 10) + "1" + strings.Repeat("}", 10)
	var huge bytes.Buffer
	huge.WriteByte('[')
	for i := range 100000 {
		if i > 0 {
			huge.WriteByte(',')
		}
		huge.WriteString(`{"kind":"k"}`)
	}
	huge.WriteByte(']')
	tests := []struct {
		name, body string
		code       int
		field      string // the field the error names
	}{
		{"empty", ``, 400, ""},
		{"invalid JSON", `{"kind":"a"`, 400, ""},
		{"trailing data", `{"kind":"a"} {}`, 400, ""},
		{"not an object", `"user.login"`, 400, ""},
		{"empty array", `[]`, 400, ""},
		{"array of non-objects", `[{"kind":"a"},3]`, 400, "[1]"},
		{"kind missing", `{"actor":"a"}`, 400, "kind"},
		{"kind empty", `{"kind":""}`, 400, "kind"},
		{"kind wrong type", `{"kind":5}`, 400, "kind"},
		{"actor wrong type", `[{"kind":"a"},{"kind":"b","actor":["x"]}]`, 400, "[1].actor"},
		{"payload wrong type", `{"kind":"a","payload":[1,2]}`, 400, "payload"},
		{"payload string", `{"kind":"a","payload":"{}"}`, 400, "payload"},
		{"unknown member", `{"kind":"a","actr":"x"}`, 400, "actr"},
		{"unknown member, other case", `{"kind":"a","Kind":"b"}`, 400, "Kind"},
		{"duplicate member", `{"kind":"a","kind":"b"}`, 400, "kind"},
		{"duplicate escaped", `{"kind":"a","\u006bind":"b"}`, 400, "kind"},
		{"duplicate in payload", `{"kind":"a","payload":{"x":{"y":1,"y":2}}}`, 400, "payload.x.y"},
		{"invalid UTF-8", "{\"kind\":\"a\xff\"}", 400, "kind"},
		{"invalid UTF-8 in payload", "{\"kind\":\"a\",\"payload\":{\"k\":\"\xc3\x28\"}}", 400, "payload.k"},
		{"unpaired surrogate", `{"kind":"a","payload":{"k":"\ud800"}}`, 400, "payload.k"},
		{"control character", "{\"kind\":\"a\nb\"}", 400, "kind"},
		{"bad number", `{"kind":"a","payload":{"n":01}}`, 400, "payload.n"},
		{"deep nesting", `{"kind":"a","payload":` + deep + `}`, 400, "payload.a.a.a.a.a.a.a"},
		{"reserved kind", `{"kind":"sealog.erase","payload":{"seq":0}}`, 400, "kind"},
		{"event too large", `{"kind":"a","payload":{"x":"` + strings.Repeat("y", 5000) + `"}}`, 413, ""},
		{"oversize body", `{"kind":"a","payload":{"x":"` + strings.Repeat("y", 2<<20) + `"}}`, 413, ""},
		{"100,000 events", huge.String(), 413, ""},
		{"too many events", events(1001), 413, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, b := ts.do(call{method: "POST", path: "/v1/entries", token: ts.tokens[RoleAppend], body: tt.body})
			var eb errorBody
			if err := json.Unmarshal(b, &eb); err != nil {
				t.Fatalf("%d %s: not a JSON error: %v", code, b, err)
			}
			if code != tt.code || (tt.field != "" && eb.Field != tt.field) || eb.Error == "" {
				t.Errorf("got %d field %q (%s), want %d field %q", code, eb.Field, eb.Error, tt.code, tt.field)
			}
			if n := ts.size(); n != 1 {
				t.Errorf("the log has %d entries after a bad request, want 1", n)
			}
		})
	}
	// The wrong content type, and unknown query parameters.
	for _, c := range []call{
		{method: "POST", path: "/v1/entries", body: `{"kind":"a"}`, header: map[string]string{"Content-Type": "text/plain"}},
		{method: "POST", path: "/v1/entries?fromat=json", body: `{"kind":"a"}`},
		{method: "POST", path: "/v1/entries", body: `{"kind":"a"}`, header: map[string]string{IdempotencyKeyHeader: "has space"}},
	} {
		c.token = ts.tokens[RoleAppend]
		if code, _, b := ts.do(c); code/100 != 4 {
			t.Errorf("%s %v: %d %s", c.path, c.header, code, b)
		}
	}
	if n := ts.size(); n != 1 {
		t.Errorf("the log has %d entries, want 1", n)
	}
}
