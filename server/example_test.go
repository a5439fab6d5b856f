package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/server"
)

// ExampleNew serves a log over HTTP and appends an event to it.
func ExampleNew() {
	dir, _ := os.MkdirTemp("", "sealog-example-")
	defer os.RemoveAll(dir)
	skey, _, _ := sealog.GenerateKey("example.com/audit")
	key, _ := sealog.ParseKey(skey)
	l, err := sealog.Open(filepath.Join(dir, "log"), sealog.Options{Key: key})
	if err != nil {
		panic(err)
	}
	defer l.Close()
	tokens, _ := server.CreateTokens(filepath.Join(dir, "tokens.json"))
	token, _, _ := tokens.Add("app", server.RoleAppend, time.Now())
	srv, err := server.New(context.Background(), server.Config{Log: l, Tokens: tokens})
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv) // on 127.0.0.1
	defer hs.Close()

	req, _ := http.NewRequest("POST", hs.URL+"/v1/entries", strings.NewReader(`{"kind":"user.login","actor":"alice"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.Status)
	// Output: 200 OK
}
