package server

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/store/postgres"
)

// TestSharedIdempotency: over PostgreSQL the keys are in the log's
// schema. A claim another server holds is in flight (409); a claim left
// by a server that died is settled from the log if its request was
// committed, and taken over if it was not; a retry then gets the same
// receipts.
func TestSharedIdempotency(t *testing.T) {
	url, _ := testkit.PostgresURL(t, "sealog_test_server_idem")
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	key := testKey(t)
	st, err := postgres.Open(ctx, url, postgres.Options{Origin: key.Origin(), Key: key.VerifierKey()})
	if err != nil {
		t.Fatal(err)
	}
	l, err := sealog.New(ctx, st, sealog.Options{Key: key, Clock: testkit.Clock(time.Millisecond), Rand: testkit.Rand(t.Name())})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	dir := t.TempDir()
	tokens, err := CreateTokens(filepath.Join(dir, "tokens.json"))
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := tokens.Add("app", RoleAppend, testkit.Start)
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu  sync.Mutex
		now = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	srv, err := New(ctx, Config{Log: l, Tokens: tokens, Clock: clock, Logger: testkit.Logger(t),
		IdempotencyFile: filepath.Join(dir, "unused.jsonl"), CommitTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv)
	defer hs.Close()
	ts := &testServer{t: t, dir: dir, log: l, srv: srv, hs: hs, url: hs.URL, tokens: map[Role]string{RoleAppend: tok}, key: key}

	// claimAs records key k for body as another server would, at claimed.
	claimAs := func(k, body string, claimed time.Time, from uint64) {
		t.Helper()
		req, aerr := parseEvents([]byte(body), 100, 64, 1<<20)
		if aerr != nil {
			t.Fatal(aerr.msg)
		}
		dig, head := digest(req.canon)
		if _, ok, err := st.ClaimKey(ctx, keyID(tokenID(t, tok), k), store.KeyRecord{Request: dig, Head: head, N: uint64(len(req.canon)), From: from, Claimed: claimed}); err != nil || !ok {
			t.Fatalf("claiming %s: %v, %v", k, ok, err)
		}
	}
	post := func(k, body string) (int, AppendResponse) {
		t.Helper()
		code, _, b := ts.do(call{method: "POST", path: "/v1/entries", token: tok, body: body, header: map[string]string{IdempotencyKeyHeader: k}})
		var r AppendResponse
		if code == 200 {
			if err := json.Unmarshal(b, &r); err != nil {
				t.Fatal(err)
			}
		}
		return code, r
	}
	ts.appendOK(`{"kind":"start"}`, nil)

	// In flight on another server: 409, and nothing appended.
	claimAs("busy", `{"kind":"busy"}`, now, 1)
	if code, _ := post("busy", `{"kind":"busy"}`); code != 409 {
		t.Fatalf("a key in flight on another server: %d, want 409", code)
	}
	// A dead server's claim whose request was committed: settled from the
	// log, with the entries that request got.
	claimAs("committed", `[{"kind":"pay","actor":"a"},{"kind":"pay","actor":"b"}]`, now.Add(-time.Hour), 1)
	rs, err := l.AppendBatch(ctx, []sealog.Event{{Kind: "pay", Actor: "a"}, {Kind: "pay", Actor: "b"}})
	if err != nil {
		t.Fatal(err)
	}
	size := ts.size()
	code, got := post("committed", `[{"kind":"pay","actor":"a"},{"kind":"pay","actor":"b"}]`)
	if code != 200 || len(got.Receipts) != 2 || got.Receipts[0].Seq != rs[0].Seq {
		t.Fatalf("a dead server's committed request: %d, %+v; want the entries from %d", code, got.Receipts, rs[0].Seq)
	}
	if ts.size() != size {
		t.Fatalf("settling the key appended: the log has %d entries, had %d", ts.size(), size)
	}
	// A dead server's claim whose request was not committed: taken over,
	// appended once, and a retry gets the same receipts.
	claimAs("lost", `{"kind":"lost"}`, now.Add(-time.Hour), size)
	code, first := post("lost", `{"kind":"lost"}`)
	if code != 200 || ts.size() != size+1 {
		t.Fatalf("a dead server's uncommitted request: %d, log size %d (had %d)", code, ts.size(), size)
	}
	if code, again := post("lost", `{"kind":"lost"}`); code != 200 || !reflect.DeepEqual(first, again) {
		t.Fatalf("the retry of a taken-over key: %d, other receipts", code)
	}
	// Past the TTL keys expire, and the next keyed request clears them.
	mu.Lock()
	now = now.Add(25 * time.Hour)
	mu.Unlock()
	post("fresh", `{"kind":"fresh"}`)
	if _, ok, err := st.ClaimKey(ctx, keyID(tokenID(t, tok), "lost"), store.KeyRecord{Request: "x", Head: "x", N: 1, Claimed: now}); err != nil || !ok {
		t.Fatalf("a key past the TTL was not forgotten: %v, %v", ok, err)
	}
}
