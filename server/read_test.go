package server

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/checkpoint"
)

func TestTilePaths(t *testing.T) {
	tests := []struct {
		path string
		want tilePath
		ok   bool
	}{
		{"0/000", tilePath{0, 0, 256}, true},
		{"0/x001/x234/067", tilePath{0, 1234067, 256}, true},
		{"1/067.p/5", tilePath{1, 67, 5}, true},
		{"entries/x001/000.p/255", tilePath{-1, 1000, 255}, true},
		{"63/000.p/1", tilePath{63, 0, 1}, true},
		{"64/000", tilePath{}, false},
		{"00/000", tilePath{}, false},
		{"0/x000/001", tilePath{}, false},
		{"0/01", tilePath{}, false},
		{"0/0001", tilePath{}, false},
		{"0/001/002", tilePath{}, false},
		{"0/000.p/0", tilePath{}, false},
		{"0/000.p/256", tilePath{}, false},
		{"0/000.p/05", tilePath{}, false},
		{"data/000", tilePath{}, false},
		{"0/000/", tilePath{}, false},
		{"0", tilePath{}, false},
	}
	for _, tt := range tests {
		got, ok := parseTilePath(tt.path)
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("parseTilePath(%q) = %+v, %v; want %+v, %v", tt.path, got, ok, tt.want, tt.ok)
		}
	}
	ts := newTestServer(t, Config{})
	ts.appendOK(events(300), nil)
	for _, c := range []struct {
		path string
		code int
	}{
		{"/tile/0/000", 200}, {"/tile/0/001.p/44", 200}, {"/tile/0/001.p/45", 404}, {"/tile/0/001", 404},
		{"/tile/1/000.p/1", 200}, {"/tile/1/000.p/2", 404}, {"/tile/entries/001.p/44", 200},
		{"/tile/entries/002.p/1", 404}, {"/tile/0/x000/000", 404}, {"/tile/9/000.p/1", 404},
	} {
		code, h, b := ts.do(call{method: "GET", path: c.path, token: ts.tokens[RoleRead]})
		if code != c.code {
			t.Errorf("%s: %d, want %d: %.100s", c.path, code, c.code, b)
		}
		if code == 200 && h.Get("Cache-Control") != "private, max-age=31536000, immutable" {
			t.Errorf("%s: Cache-Control %q", c.path, h.Get("Cache-Control"))
		}
		if code != 200 && h.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: an error with Cache-Control %q", c.path, h.Get("Cache-Control"))
		}
	}
	_, h, _ := ts.do(call{method: "GET", path: "/checkpoint", token: ts.tokens[RoleRead]})
	if h.Get("Cache-Control") != "private, max-age=2" {
		t.Errorf("checkpoint: Cache-Control %q", h.Get("Cache-Control"))
	}
	_, h, _ = ts.do(call{method: "GET", path: "/tile/entries/000", token: ts.tokens[RoleRead], header: map[string]string{"Accept-Encoding": "gzip"}})
	if h.Get("Content-Encoding") != "gzip" {
		t.Errorf("an entry bundle asked for with gzip: Content-Encoding %q", h.Get("Content-Encoding"))
	}
}

func TestReadEndpoints(t *testing.T) {
	ts := newTestServer(t, Config{MaxPageSize: 50})
	ts.appendOK(`[{"kind":"a","actor":"alice"},{"kind":"b","actor":"bob","resource":"doc/1"}]`, nil)
	ts.appendOK(events(100), nil)
	get := func(path string, v any) int {
		t.Helper()
		code, _, b := ts.do(call{method: "GET", path: path, token: ts.tokens[RoleRead]})
		if code == 200 && v != nil {
			if err := json.Unmarshal(b, v); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
		}
		return code
	}
	var page EntriesPage
	if get("/v1/entries?actor=bob", &page); len(page.Entries) != 1 || page.Entries[0].Resource != "doc/1" || page.Next != nil {
		t.Fatalf("actor=bob: %+v", page)
	}
	t1 := page.Entries[0].Time
	if get("/v1/entries?kind=test.event&limit=30", &page); len(page.Entries) != 30 || *page.Next != 32 || page.Size != 102 {
		t.Errorf("a first page: %d entries, next %v", len(page.Entries), page.Next)
	}
	if get("/v1/entries?kind=test.event&limit=50&from=32", &page); len(page.Entries) != 50 || *page.Next != 82 {
		t.Errorf("a second page: %d entries, next %v", len(page.Entries), page.Next)
	}
	// Times: the entries of one batch share its time; since is
	// inclusive, until exclusive.
	var t2 time.Time
	get("/v1/entries?from=2&limit=1", &page)
	t2 = page.Entries[0].Time
	q := func(t time.Time) string { return t.Format(time.RFC3339Nano) }
	if get("/v1/entries?since="+q(t1.Add(time.Nanosecond)), &page); len(page.Entries) != 50 || page.Entries[0].Seq != 2 {
		t.Errorf("since after the first batch: %d entries from %d", len(page.Entries), page.Entries[0].Seq)
	}
	if get("/v1/entries?since="+q(t1)+"&until="+q(t2), &page); len(page.Entries) != 2 || page.Next != nil {
		t.Errorf("since the first batch until the second: %d entries, next %v", len(page.Entries), page.Next)
	}
	for _, p := range []string{"/v1/entries?limit=0", "/v1/entries?limit=51", "/v1/entries?from=-1", "/v1/entries?since=yesterday",
		"/v1/entries?kind=a&kind=b", "/v1/entries?sort=asc", "/v1/entries/x", "/v1/entries/5?size=200",
		"/v1/proof/inclusion", "/v1/proof/inclusion?seq=5&size=3", "/v1/proof/consistency?from=20&to=10", "/v1/proof/consistency"} {
		if code := get(p, nil); code != 400 {
			t.Errorf("%s: %d, want 400", p, code)
		}
	}
	if code := get("/v1/entries/500", nil); code != 404 {
		t.Errorf("an entry beyond the log: %d", code)
	}
	// An entry with its proof, against the head and the first batch.
	v, _ := note.NewVerifier(ts.vkey)
	for _, size := range []string{"", "&size=2"} {
		var er EntryResponse
		if get("/v1/entries/1?proof=true"+size, &er) != 200 || er.Inclusion == nil {
			t.Fatalf("entry 1 with proof%s", size)
		}
		ck, _, err := checkpoint.Open([]byte(er.Inclusion.Checkpoint), note.VerifierList(v), "")
		if err != nil {
			t.Fatal(err)
		}
		if err := tlog.CheckRecord(er.Inclusion.Proof, int64(ck.Size), ck.Root, 1, er.Entry.LeafHash); err != nil {
			t.Errorf("entry 1 in size %d: %v", ck.Size, err)
		}
	}
	var cr ConsistencyResponse
	if get("/v1/proof/consistency?from=2&to=102", &cr) != 200 || cr.OldCheckpoint == "" || cr.NewCheckpoint == "" {
		t.Fatalf("consistency: %+v", cr)
	}
	oc, _, _ := checkpoint.Open([]byte(cr.OldCheckpoint), note.VerifierList(v), "")
	nc, _, _ := checkpoint.Open([]byte(cr.NewCheckpoint), note.VerifierList(v), "")
	if err := tlog.CheckTree(cr.Proof, int64(nc.Size), nc.Root, int64(oc.Size), oc.Root); err != nil {
		t.Errorf("consistency 2 -> 102: %v", err)
	}
	var ip InclusionProof
	if get("/v1/proof/inclusion?seq=7&size=50", &ip) != 200 || ip.Checkpoint != "" || len(ip.Proof) == 0 {
		t.Errorf("inclusion in a size that is no batch's: %+v", ip)
	}
}

func TestMetricsAndHealth(t *testing.T) {
	ts := newTestServer(t, Config{})
	ts.appendOK(events(5), nil)
	ts.do(call{method: "POST", path: "/v1/entries", token: ts.tokens[RoleAppend], body: `{`})
	code, _, b := ts.do(call{method: "GET", path: "/metrics", token: ts.tokens[RoleAdmin]})
	if code != 200 {
		t.Fatalf("metrics: %d", code)
	}
	for _, want := range []string{
		"sealog_appended_entries_total 5", "sealog_tree_size 5", `sealog_errors_total{kind="bad_request"} 1`,
		`sealog_http_requests_total{code="200",route="/v1/entries"} 1`, "sealog_commit_duration_seconds_bucket",
		"sealog_append_request_events_bucket", "sealog_commit_conflicts_total 0", "sealog_commit_batches_total 1",
	} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("metrics lack %q", want)
		}
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "sealog_") {
			name := line[:strings.IndexAny(line, "{ ")]
			if strings.ToLower(name) != name {
				t.Errorf("metric %s is not snake case", name)
			}
		}
	}
	for _, tok := range ts.tokens {
		if bytes.Contains(b, []byte(tok[len(tokenPrefix)+idLen+1:])) || bytes.Contains(b, []byte(tok[len(tokenPrefix):len(tokenPrefix)+idLen])) {
			t.Error("the metrics reveal a token or its id")
		}
	}
	if code, _, _ := ts.do(call{method: "GET", path: "/readyz"}); code != 200 {
		t.Errorf("readyz: %d", code)
	}
	ts.srv.Close()
	if code, _, _ := ts.do(call{method: "GET", path: "/readyz"}); code != 503 {
		t.Errorf("readyz while closing: %d", code)
	}
	if code, h, _ := ts.do(call{method: "POST", path: "/v1/entries", token: ts.tokens[RoleAppend], body: `{"kind":"late"}`}); code != 503 || h.Get("Retry-After") == "" {
		t.Errorf("an append while closing: %d", code)
	}
	if code, _, _ := ts.do(call{method: "GET", path: "/healthz"}); code != 200 {
		t.Errorf("healthz: %d", code)
	}
}
