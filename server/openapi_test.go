package server

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/sealog/sealog/internal/testtsa"
)

// TestOpenAPI validates openapi.yaml and checks real requests and
// responses, successes and errors, against it.
func TestOpenAPI(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	doc, err := openapi3.NewLoader().LoadFromData(OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(ctx); err != nil {
		t.Fatalf("openapi.yaml is not valid OpenAPI 3: %v", err)
	}
	ts := newTestServer(t, Config{})
	ts.appendOK(events(300), nil)
	authority, err := testtsa.New(testtsa.Options{})
	if err != nil {
		t.Fatal(err)
	}
	stampAt(t, ts, authority, 300)
	doc.Servers = openapi3.Servers{{URL: ts.url}}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	openapi3filter.RegisterBodyDecoder(TlogProofType, openapi3filter.PlainBodyDecoder)
	openapi3filter.RegisterBodyDecoder("application/yaml", openapi3filter.PlainBodyDecoder)
	// The router does not match a parameter followed by text in one path
	// element ("{index}.p"): partial tiles are routed here.
	partial := regexp.MustCompile(`^/tile/(entries|[0-9]+)/([0-9]{3})\.p/([0-9]+)$`)
	findRoute := func(req *http.Request) (*routers.Route, map[string]string, error) {
		m := partial.FindStringSubmatch(req.URL.Path)
		if m == nil {
			return router.FindRoute(req)
		}
		path, params := "/tile/{level}/{index}.p/{width}", map[string]string{"level": m[1], "index": m[2], "width": m[3]}
		if m[1] == "entries" {
			path = "/tile/entries/{index}.p/{width}"
			delete(params, "level")
		}
		item := doc.Paths.Value(path)
		return &routers.Route{Spec: doc, Server: doc.Servers[0], Path: path, PathItem: item, Method: "GET", Operation: item.Get}, params, nil
	}
	app, read, admin := ts.tokens[RoleAppend], ts.tokens[RoleRead], ts.tokens[RoleAdmin]
	calls := []struct {
		call
		status int
	}{
		{call{method: "POST", path: "/v1/entries", token: app, body: `{"kind":"user.login","actor":"alice","payload":{"ip":"203.0.113.9"}}`}, 200},
		{call{method: "POST", path: "/v1/entries", token: app, body: events(3), header: map[string]string{IdempotencyKeyHeader: "k1", ConsistencyFromHeader: "10"}}, 200},
		{call{method: "POST", path: "/v1/entries?format=tlog-proof", token: app, body: `{"kind":"a"}`}, 200},
		{call{method: "POST", path: "/v1/entries", token: app, body: `{"kind":"a","kind":"b"}`}, 400},
		{call{method: "POST", path: "/v1/entries", token: app, body: events(2), header: map[string]string{IdempotencyKeyHeader: "k1"}}, 422},
		{call{method: "POST", path: "/v1/entries", token: read, body: `{"kind":"a"}`}, 403},
		{call{method: "POST", path: "/v1/entries", body: `{"kind":"a"}`}, 401},
		{call{method: "GET", path: "/v1/entries?from=1&limit=5&kind=test.event", token: read}, 200},
		{call{method: "GET", path: "/v1/entries?since=2026-01-01T00:00:00Z&until=2099-01-01T00:00:00Z", token: read}, 200},
		{call{method: "GET", path: "/v1/entries?limit=0", token: read}, 400},
		{call{method: "GET", path: "/v1/entries/3", token: read}, 200},
		{call{method: "GET", path: "/v1/entries/3?proof=true&size=300", token: read}, 200},
		{call{method: "GET", path: "/v1/entries/3?format=tlog-proof", token: read}, 200},
		{call{method: "GET", path: "/v1/entries/3?timestamp=true&size=300", token: read}, 200},
		{call{method: "GET", path: "/v1/entries/3?timestamp=true&format=tlog-proof", token: read}, 400},
		{call{method: "GET", path: "/v1/entries/3?timestamp=true&proof=false", token: read}, 400},
		{call{method: "GET", path: "/v1/entries/9999", token: read}, 404},
		{call{method: "GET", path: "/v1/proof/inclusion?seq=3&size=100", token: read}, 200},
		{call{method: "GET", path: "/v1/proof/inclusion?seq=3", token: read}, 200},
		{call{method: "GET", path: "/v1/proof/consistency?from=10&to=300", token: read}, 200},
		{call{method: "GET", path: "/v1/proof/consistency?from=0", token: read}, 200},
		{call{method: "GET", path: "/v1/proof/consistency?from=20&to=10", token: read}, 400},
		{call{method: "GET", path: "/checkpoint", token: read}, 200},
		{call{method: "GET", path: "/tile/0/000", token: read}, 200},
		{call{method: "GET", path: "/tile/0/001.p/44", token: read}, 200},
		{call{method: "GET", path: "/tile/1/000.p/1", token: read}, 200},
		{call{method: "GET", path: "/tile/entries/000", token: read}, 200},
		{call{method: "GET", path: "/tile/entries/001.p/44", token: read}, 200},
		{call{method: "GET", path: "/tile/0/005", token: read}, 404},
		{call{method: "GET", path: "/metrics", token: admin}, 200},
		{call{method: "GET", path: "/metrics", token: read}, 403},
		{call{method: "GET", path: "/healthz"}, 200},
		{call{method: "GET", path: "/readyz"}, 200},
		{call{method: "GET", path: "/openapi.yaml"}, 200},
	}
	for _, c := range calls {
		req, err := http.NewRequestWithContext(ctx, c.method, ts.url+c.path, strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		if c.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		for k, v := range c.header {
			req.Header.Set(k, v)
		}
		route, params, err := findRoute(req)
		if err != nil {
			t.Errorf("%s %s: no route in openapi.yaml: %v", c.method, c.path, err)
			continue
		}
		in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
		if c.status < 400 {
			if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
				t.Errorf("%s %s: the request does not match openapi.yaml: %v", c.method, c.path, err)
			}
			req.Body = io.NopCloser(strings.NewReader(c.body)) // ValidateRequest read it
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Errorf("%s %s: %d, want %d: %.200s", c.method, c.path, resp.StatusCode, c.status, body)
			continue
		}
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
			Body: io.NopCloser(bytes.NewReader(body)), Options: &openapi3filter.Options{IncludeResponseStatus: true}}
		if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
			t.Errorf("%s %s: the %d response does not match openapi.yaml: %v", c.method, c.path, resp.StatusCode, err)
		}
	}
}
