package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestApplyConfig(t *testing.T) {
	cases := []struct {
		name, file string
		args       []string
		want       string // the flags' values after, or the error's text
	}{
		{"values of each kind", `{"listen":"0.0.0.0:1","n":7,"public":true,"key":["a","b"]}`, nil, "listen=0.0.0.0:1 n=7 public=true key=a,b"},
		{"the command line wins", `{"listen":"0.0.0.0:1","n":7}`, []string{"--n", "3"}, "listen=0.0.0.0:1 n=3 public=false key="},
		{"an unknown member", `{"lisen":"x"}`, nil, `"lisen" is not a flag of sealog test`},
		{"config itself", `{"config":"other.json"}`, nil, `"config" is not a flag`},
		{"a wrong kind", `{"n":"many"}`, nil, `"n": parse error`},
		{"an object value", `{"listen":{"a":1}}`, nil, `"listen": want a string, a number or a boolean`},
		{"not an object", `["listen"]`, nil, "not a JSON object"},
		{"two values", `{} {}`, nil, "more than one JSON value"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.json")
			if err := os.WriteFile(path, []byte(tc.file), 0o600); err != nil {
				t.Fatal(err)
			}
			fl := flag.NewFlagSet("test", flag.ContinueOnError)
			listen := fl.String("listen", "127.0.0.1:8080", "")
			n := fl.Int("n", 0, "")
			public := fl.Bool("public", false, "")
			var keys stringsFlag
			fl.Var(&keys, "key", "")
			fl.String("config", "", "")
			if err := fl.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			err := applyConfig("test", fl, path)
			got := fmt.Sprintf("listen=%s n=%d public=%v key=%s", *listen, *n, *public, strings.Join(keys, ","))
			if err != nil {
				got = err.Error()
			}
			if !strings.Contains(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestServeConfigFile: sealog serve takes its store and limits from
// --config; the command line's --listen wins over the file's.
func TestServeConfigFile(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "serve.json")
	db := filepath.Join(dir, "audit.db")
	if err := os.WriteFile(cfg, []byte(`{"listen":"127.0.0.1:1","store":"sqlite://`+db+`","max-events":2}`), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, ctx, filepath.Join(dir, "data"), "--config", cfg)
	if !strings.Contains(strings.Join(s.stdout, "\n"), "sqlite://"+db) {
		t.Fatalf("the server did not open the store the config names:\n%s", strings.Join(s.stdout, "\n"))
	}
	post := func(body string) int {
		req, _ := http.NewRequestWithContext(ctx, "POST", s.url+"/v1/entries", bytes.NewBufferString(body))
		req.Header.Set("Authorization", "Bearer "+s.token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(`[{"kind":"a"},{"kind":"b"}]`); code != 200 {
		t.Fatalf("two events: %d", code)
	}
	if code := post(`[{"kind":"a"},{"kind":"b"},{"kind":"c"}]`); code != 413 {
		t.Fatalf("three events with max-events 2 from the config: %d, want 413", code)
	}
	s.stop(t, os.Interrupt)
	if out, err := runBinary(t, ctx, "verify", "sqlite://"+db, "-q"); err != nil {
		t.Fatalf("verify: %v\n%s", err, out)
	}
}
