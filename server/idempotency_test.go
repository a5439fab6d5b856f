package server

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func TestIdempotencyRetryReturnsFirstReceipts(t *testing.T) {
	ts := newTestServer(t, Config{})
	key := map[string]string{IdempotencyKeyHeader: "k-1"}
	first := ts.appendOK(events(3), key)
	ts.appendOK(`{"kind":"other"}`, nil)
	again := ts.appendOK(events(3), key)
	if !reflect.DeepEqual(first, again) {
		t.Fatalf("a retry got other receipts:\n%+v\n%+v", first, again)
	}
	// White space does not make another request: the events are the same.
	spaced := strings.ReplaceAll(events(3), ",", " , ")
	if got := ts.appendOK(spaced, key); !reflect.DeepEqual(first, got) {
		t.Errorf("the same events with other white space got other receipts")
	}
	if n := ts.size(); n != 4 {
		t.Fatalf("the log has %d entries, want 4", n)
	}
	// Other events with the same key: 422, nothing written.
	code, _, b := ts.do(call{method: "POST", path: "/v1/entries", token: ts.tokens[RoleAppend], body: events(2), header: key})
	if code != 422 || !bytes.Contains(b, []byte("idempotency_mismatch")) {
		t.Errorf("reused key with another body: %d %s", code, b)
	}
	// The same key from another token is another key.
	code, _, _ = ts.do(call{method: "POST", path: "/v1/entries", token: ts.tokens[RoleAdmin], body: events(3), header: key})
	if code != 200 || ts.size() != 7 {
		t.Errorf("the same key from another token: %d, size %d", code, ts.size())
	}
}

func TestIdempotencyConcurrentRetries(t *testing.T) {
	ts := newTestServer(t, Config{})
	key := map[string]string{IdempotencyKeyHeader: "same"}
	var wg sync.WaitGroup
	results := make([]AppendResponse, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = ts.appendOK(events(2), key)
		}()
	}
	wg.Wait()
	for _, r := range results[1:] {
		if !reflect.DeepEqual(r, results[0]) {
			t.Fatalf("concurrent requests with one key got different receipts")
		}
	}
	if n := ts.size(); n != 2 {
		t.Fatalf("the log has %d entries, want 2", n)
	}
}

func TestIdempotencySurvivesRestart(t *testing.T) {
	ts := newTestServer(t, Config{})
	key := map[string]string{IdempotencyKeyHeader: "restart"}
	first := ts.appendOK(events(2), key)
	ts.stop()
	ts.start()
	if got := ts.appendOK(events(2), key); !reflect.DeepEqual(first, got) {
		t.Fatalf("after a restart a retry got other receipts")
	}
	if n := ts.size(); n != 2 {
		t.Fatalf("the log has %d entries, want 2", n)
	}
}

// TestIdempotencyCrashSettles: a crash can leave a key begun without its
// done record, whether or not its events were committed. Reopening
// settles it from the log: a retry gets the committed entries, or appends
// once if there were none.
func TestIdempotencyCrashSettles(t *testing.T) {
	ts := newTestServer(t, Config{})
	landed := map[string]string{IdempotencyKeyHeader: "landed"}
	lost := map[string]string{IdempotencyKeyHeader: "lost"}
	ts.appendOK(`{"kind":"before"}`, nil)
	first := ts.appendOK(events(3), landed)
	ts.appendOK(events(3), nil) // the same events, without a key
	ts.stop()

	// Drop the done record of "landed", and add a begin record for "lost"
	// whose events never reached the log.
	path := filepath.Join(ts.dir, "idempotency.jsonl")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if !strings.Contains(line, `"op":"done"`) {
			kept = append(kept, line)
		}
	}
	req, perr := parseEvents([]byte(`{"kind":"never"}`), 10, 10, 1<<20)
	if perr != nil {
		t.Fatal(perr)
	}
	dig, head := digest(req.canon)
	rec, _ := json.Marshal(idemRecord{Op: "begin", Key: keyID(tokenID(t, ts.tokens[RoleAppend]), "lost"), Req: dig, Head: head, N: 1, From: 7, Time: 1})
	kept = append(kept, string(rec), `{"op":"done","key":"torn`) // and a torn tail
	if err := os.WriteFile(path, []byte(strings.Join(kept, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	ts.cfg.IdempotencyTTL = 1 << 62 // the begin record above is from 1970
	ts.start()
	if got := ts.appendOK(events(3), landed); !reflect.DeepEqual(first, got) {
		t.Fatalf("a key settled from the log got other receipts:\n%+v\n%+v", first, got)
	}
	if n := ts.size(); n != 7 {
		t.Fatalf("the log has %d entries, want 7", n)
	}
	r1 := ts.appendOK(`{"kind":"never"}`, lost)
	r2 := ts.appendOK(`{"kind":"never"}`, lost)
	if r1.Receipts[0].Seq != 7 || !reflect.DeepEqual(r1, r2) || ts.size() != 8 {
		t.Fatalf("a key whose events were lost: seq %d, size %d", r1.Receipts[0].Seq, ts.size())
	}
}

// TestIdempotencyBounded: past IdempotencyKeys the oldest keys are
// forgotten, and the journal stays bounded across restarts.
func TestIdempotencyBounded(t *testing.T) {
	ts := newTestServer(t, Config{IdempotencyKeys: 5})
	for i := range 20 {
		ts.appendOK(`{"kind":"k"}`, map[string]string{IdempotencyKeyHeader: "key-" + string(rune('a'+i))})
	}
	ts.srv.idem.mu.Lock()
	n := len(ts.srv.idem.keys)
	ts.srv.idem.mu.Unlock()
	if n != 5 {
		t.Errorf("%d keys kept, want 5", n)
	}
	ts.stop()
	ts.start()
	recs, err := readJournal(filepath.Join(ts.dir, "idempotency.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 10 {
		t.Errorf("the journal has %d records after a restart, want 10 (a begin and a done per key)", len(recs))
	}
}

// tokenID returns the ID part of a token.
func tokenID(t *testing.T, tok string) string {
	t.Helper()
	return tok[len(tokenPrefix) : len(tokenPrefix)+idLen]
}
