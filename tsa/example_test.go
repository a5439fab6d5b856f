package tsa_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"

	"github.com/sealog/sealog/internal/testtsa"
	"github.com/sealog/sealog/tsa"
	"github.com/sealog/sealog/tstoken"
)

// Ask a TSA for a timestamp over a message, checked against its root on
// arrival. (A test TSA stands in for a real one here.)
func ExampleClient_Timestamp() {
	authority, _ := testtsa.New(testtsa.Options{Name: "Example TSA"})
	srv := httptest.NewServer(authority)
	defer srv.Close()
	roots, _ := tsa.ParseRoots(authority.CAPEM)

	c, err := tsa.New(tsa.Options{URL: srv.URL, Roots: roots})
	if err != nil {
		log.Fatal(err)
	}
	msg := []byte("example.com/audit\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")
	tsr, err := c.Timestamp(context.Background(), msg)
	if err != nil {
		log.Fatal(err)
	}
	st, err := tstoken.Verify(tsr, msg, roots)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(st.TSA)
	// Output: CN=Example TSA
}
