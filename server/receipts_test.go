package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/verify"
)

// checkReceipts checks every receipt of a POST /v1/entries answer: its
// inclusion proof verifies against its signed checkpoint, its line is
// the stored line byte for byte and hashes to its leaf, and the body is
// what encoding/json writes for the decoded response (HTML escaping
// aside).
func (ts *testServer) checkReceipts(body []byte, want int) []Receipt {
	ts.t.Helper()
	var resp AppendResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		ts.t.Fatalf("decoding %.200s: %v", body, err)
	}
	if len(resp.Receipts) != want {
		ts.t.Fatalf("%d receipts, want %d", len(resp.Receipts), want)
	}
	var std bytes.Buffer
	enc := json.NewEncoder(&std)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(resp); err != nil {
		ts.t.Fatal(err)
	}
	if !bytes.Equal(std.Bytes(), body) {
		ts.t.Errorf("the body is not encoding/json's encoding:\n got %.300s\nwant %.300s", body, std.Bytes())
	}
	for i, r := range resp.Receipts {
		if i > 0 && r.Seq != resp.Receipts[i-1].Seq+1 {
			ts.t.Fatalf("receipt %d has seq %d after %d", i, r.Seq, resp.Receipts[i-1].Seq)
		}
		vr := verify.Receipt{Seq: r.Seq, Time: r.Time, LeafHash: r.LeafHash, Checkpoint: r.Checkpoint, Proof: r.Proof}
		if _, err := verify.VerifyReceipt(vr, ts.vkey); err != nil {
			ts.t.Errorf("receipt %d: %v", r.Seq, err)
		}
		ln, err := ts.log.Store().ReadLine(context.Background(), r.Seq)
		if err != nil {
			ts.t.Fatal(err)
		}
		if string(ln.Bytes) != r.Line {
			ts.t.Errorf("receipt %d: line\n%s\nis not the stored line\n%s", r.Seq, r.Line, ln.Bytes)
		}
		l, err := format.ParseLine([]byte(r.Line))
		if err != nil {
			ts.t.Fatalf("receipt %d: line: %v", r.Seq, err)
		}
		if h := l.Header(); h.LeafHash() != r.LeafHash {
			ts.t.Errorf("receipt %d: the line does not hash to the leaf", r.Seq)
		}
		if l.Time != r.Time.UnixNano() {
			ts.t.Errorf("receipt %d: time %v, the line's %d", r.Seq, r.Time, l.Time)
		}
	}
	return resp.Receipts
}

// TestReceiptsOfBatches appends batches of 1, 2, 7 and 1,000 events, one
// request at a time and then many at once (so that one store batch holds
// several requests, and only the last request's last line carries the
// batch's signature), and checks every receipt; then replays a keyed
// request, whose receipts are read back from the store, and checks them
// again.
func TestReceiptsOfBatches(t *testing.T) {
	ts := newTestServer(t, Config{})
	post := func(body string, header map[string]string) []byte {
		code, _, b := ts.do(call{method: "POST", path: "/v1/entries", token: ts.tokens[RoleAppend], body: body, header: header})
		if code != 200 {
			t.Fatalf("POST /v1/entries: %d %.300s", code, b)
		}
		return b
	}
	one := func(n int) string {
		if n == 1 {
			return `{"kind":"one","actor":"a <b> & \"c\"","resource":"r/1","payload":{"x":"\u00e9\u2603","y":[1,2.5,null]}}`
		}
		return events(n)
	}
	for _, n := range []int{1, 2, 7, 1000} {
		ts.checkReceipts(post(one(n), nil), n)
	}
	var wg sync.WaitGroup
	bodies := make([][]byte, 24)
	sizes := []int{1, 2, 7, 1000}
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _, b := ts.do(call{method: "POST", path: "/v1/entries", token: ts.tokens[RoleAppend], body: one(sizes[i%len(sizes)])})
			if code != 200 {
				t.Errorf("POST /v1/entries: %d %.300s", code, b)
			}
			bodies[i] = b
		}()
	}
	wg.Wait()
	signed := 0
	for i, b := range bodies {
		for _, r := range ts.checkReceipts(b, sizes[i%len(sizes)]) {
			if strings.Contains(r.Line, `"sig":"`) {
				signed++
			}
		}
	}
	if signed == 0 {
		t.Error("no receipt's line ends a store batch")
	}
	for _, n := range []int{1, 7, 1000} {
		h := map[string]string{IdempotencyKeyHeader: fmt.Sprintf("key-%d", n)}
		first := post(one(n), h)
		ts.checkReceipts(first, n)
		again := post(one(n), h)
		if !bytes.Equal(first, again) {
			t.Errorf("batch of %d: the replayed receipts differ from the first ones", n)
		}
		ts.checkReceipts(again, n)
	}
}

// TestAppendJSONBytes: the line encoder's output decodes back to its
// input, and is encoding/json's (without HTML escaping) for strings
// without control characters, as stored lines are.
func TestAppendJSONBytes(t *testing.T) {
	for _, s := range []string{
		``, `a`, `"`, `\`, `{"seq":1,"event":{"k":"a\"b\\c"}}`, `é☃ <&> 𝄞`, "tab\there", "nl\nx", "\x00\x01\x1f", `\"\\"`,
		strings.Repeat(`"\`, 500),
	} {
		b := appendJSONBytes([]byte("prefix"), []byte(s))
		if !bytes.HasPrefix(b, []byte("prefix")) {
			t.Fatalf("%q: the prefix was lost: %q", s, b)
		}
		b = b[len("prefix"):]
		var got string
		if err := json.Unmarshal(b, &got); err != nil || got != s {
			t.Errorf("%q: encoded %s, decodes to %q (%v)", s, b, got, err)
		}
		if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 }) {
			continue
		}
		var std bytes.Buffer
		enc := json.NewEncoder(&std)
		enc.SetEscapeHTML(false)
		enc.Encode(s)
		if want := bytes.TrimSuffix(std.Bytes(), []byte("\n")); !bytes.Equal(b, want) {
			t.Errorf("%q: encoded %s, encoding/json %s", s, b, want)
		}
	}
}
