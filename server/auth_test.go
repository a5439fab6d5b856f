package server

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/sealog/sealog/internal/testkit"
)

// endpoint is one endpoint of the API, for tests that cover them all.
type endpoint struct {
	method, path, body string
	need               Role // "" for a public endpoint
	read               bool // one of the read endpoints (public with PublicReads)
}

// endpoints lists every endpoint, with a request that succeeds on a log
// of 300 entries.
var endpoints = []endpoint{
	{"POST", "/v1/entries", `{"kind":"auth.test"}`, RoleAppend, false},
	{"GET", "/v1/entries?from=1&limit=2", "", RoleRead, true},
	{"GET", "/v1/entries/3?proof=true", "", RoleRead, true},
	{"GET", "/v1/proof/inclusion?seq=3&size=10", "", RoleRead, true},
	{"GET", "/v1/proof/consistency?from=10&to=20", "", RoleRead, true},
	{"GET", "/checkpoint", "", RoleRead, true},
	{"GET", "/tile/0/000", "", RoleRead, true},
	{"GET", "/tile/entries/000.p/5", "", RoleRead, true},
	{"GET", "/metrics", "", RoleAdmin, false},
	{"GET", "/healthz", "", "", false},
	{"GET", "/readyz", "", "", false},
	{"GET", "/openapi.yaml", "", "", false},
}

func TestAuthMatrix(t *testing.T) {
	for _, public := range []bool{false, true} {
		ts := newTestServer(t, Config{PublicReads: public})
		ts.appendOK(events(300), nil)
		revoked, _, err := ts.cfg.Tokens.Add("revoked", RoleAdmin, testkit.Start)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ts.cfg.Tokens.Revoke("revoked", testkit.Start.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		// A well-formed token that is not in the file, and one whose
		// secret is wrong for a known ID.
		unknown := tokenPrefix + "0123456789ab_" + strings.Repeat("A", secretLen)
		admin := ts.tokens[RoleAdmin]
		wrongSecret := admin[:len(admin)-4] + "AAAA"
		for _, ep := range endpoints {
			need := ep.need
			if public && ep.read {
				need = ""
			}
			cases := []struct {
				name, token string
				want        int
			}{
				{"no token", "", 401},
				{"malformed token", "not-a-token", 401},
				{"unknown token", unknown, 401},
				{"wrong secret", wrongSecret, 401},
				{"revoked token", revoked, 401},
				{"admin", admin, 200},
			}
			for _, r := range []Role{RoleAppend, RoleRead} {
				want := 403
				if r == need {
					want = 200
				}
				cases = append(cases, struct {
					name, token string
					want        int
				}{"role " + string(r), ts.tokens[r], want})
			}
			for _, c := range cases {
				want := c.want
				if need == "" {
					want = 200
				}
				code, h, b := ts.do(call{method: ep.method, path: ep.path, token: c.token, body: ep.body})
				if code != want {
					t.Errorf("public=%v %s %s with %s: %d, want %d: %.200s", public, ep.method, ep.path, c.name, code, want, b)
				}
				if code == 401 && h.Get("WWW-Authenticate") == "" {
					t.Errorf("%s %s: a 401 without WWW-Authenticate", ep.method, ep.path)
				}
				for _, tok := range []string{admin, revoked, ts.tokens[RoleAppend], ts.tokens[RoleRead]} {
					if bytes.Contains(b, []byte(tok)) || bytes.Contains(b, []byte(tok[len(tokenPrefix)+idLen+1:])) {
						t.Errorf("%s %s: the answer reveals a token", ep.method, ep.path)
					}
				}
			}
		}
		ts.stop()
	}
}

func TestRateLimit(t *testing.T) {
	now := testkit.Start
	ts := newTestServer(t, Config{RateLimit: 2, RateBurst: 3, Clock: func() time.Time { return now }})
	tok := ts.tokens[RoleRead]
	for i := range 3 {
		if code, _, b := ts.do(call{method: "GET", path: "/healthz"}); code != 200 {
			t.Fatalf("healthz %d: %d %s", i, code, b)
		}
		if code, _, b := ts.do(call{method: "GET", path: "/v1/entries", token: tok}); code != 200 {
			t.Fatalf("request %d within the burst: %d %s", i, code, b)
		}
	}
	code, h, _ := ts.do(call{method: "GET", path: "/v1/entries", token: tok})
	if code != 429 || h.Get("Retry-After") != "1" {
		t.Fatalf("past the burst: %d, Retry-After %q", code, h.Get("Retry-After"))
	}
	// Another token has its own bucket.
	if code, _, _ := ts.do(call{method: "GET", path: "/v1/entries", token: ts.tokens[RoleAdmin]}); code != 200 {
		t.Errorf("another token: %d", code)
	}
	now = now.Add(time.Second)
	if code, _, _ := ts.do(call{method: "GET", path: "/v1/entries", token: tok}); code != 200 {
		t.Errorf("a second later: %d", code)
	}
}

func TestTokensFile(t *testing.T) {
	ts := newTestServer(t, Config{})
	path := ts.cfg.Tokens.Path()
	b := readFile(t, path)
	for _, tok := range ts.tokens {
		if bytes.Contains(b, []byte(tok[len(tokenPrefix)+idLen+1:])) {
			t.Fatal("the tokens file holds a token's secret")
		}
	}
	if err := chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenTokens(path); err == nil {
		t.Error("a tokens file others can read was opened")
	}
}
