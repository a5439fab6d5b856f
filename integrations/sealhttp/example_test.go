package sealhttp_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/integrations/sealhttp"
)

// Every request to the mux is recorded; mutating ones durably before
// their response is sent.
func Example() {
	dir, _ := os.MkdirTemp("", "sealhttp-example-")
	defer os.RemoveAll(dir)
	skey, _, _ := sealog.GenerateKey("example.com/audit")
	key, _ := sealog.ParseKey(skey)
	auditLog, err := sealog.Open(filepath.Join(dir, "audit"), sealog.Options{Key: key})
	if err != nil {
		log.Fatal(err)
	}
	defer auditLog.Close()

	mux := http.NewServeMux()
	mux.HandleFunc("POST /invoices/{id}/approve", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "approved "+r.PathValue("id"))
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })

	// The two lines: the middleware over the log, around the mux.
	audit := sealhttp.New(auditLog, sealhttp.Options{Skip: []string{"/healthz"}, User: func(r *http.Request) string { return r.Header.Get("X-User") }})
	srv := httptest.NewServer(audit.Handler(mux))
	defer srv.Close()

	req, _ := http.NewRequest("POST", srv.URL+"/invoices/42/approve", nil)
	req.Header.Set("X-User", "alice@example.com")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, string(body))
	http.Get(srv.URL + "/healthz")

	audit.Close(context.Background()) // drains asynchronous records
	for e, err := range auditLog.Entries(context.Background(), 0, 10) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("entry %d: %s %s by %s\n", e.Seq, e.Kind, e.Resource, e.Actor)
	}
	fmt.Printf("%+v\n", audit.Stats())
	// Output:
	// 200 approved 42
	// entry 0: http.request POST /invoices/{id}/approve by alice@example.com
	// {Sealed:1 Failed:0 Refused:0 Queued:0 Requests:1}
}
