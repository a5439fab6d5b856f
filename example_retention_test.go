package sealog_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/internal/testtsa"
	"github.com/sealog/sealog/store/file"
	"github.com/sealog/sealog/tsa"
	"github.com/sealog/sealog/tstoken"
	"github.com/sealog/sealog/verify"
)

// Delete the oldest entries for a retention rule, and verify what is
// left: the report says which entries were pruned and by which record.
func ExampleLog_Prune() {
	dir, _ := os.MkdirTemp("", "sealog-example-")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	skey, vkey, _ := sealog.GenerateKey("example.com/audit")
	key, _ := sealog.ParseKey(skey)
	// Small segments, so that this small log has some to prune.
	l, err := sealog.Open(filepath.Join(dir, "audit"), sealog.Options{Key: key, File: file.Options{SegmentSize: 1024}})
	if err != nil {
		log.Fatal(err)
	}
	for i := 0; i < 40; i++ {
		if _, err := l.Append(ctx, sealog.Event{Kind: "doc.read", Payload: map[string]any{"doc": i, "note": "some forty bytes of detail here"}}); err != nil {
			log.Fatal(err)
		}
	}
	res, err := l.Prune(ctx, 20) // as far as whole segments go
	if err != nil {
		log.Fatal(err)
	}
	l.Close()

	rep, err := verify.Verify(ctx, verify.Dir(filepath.Join(dir, "audit")), verify.Options{Key: vkey})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("valid:", rep.Valid)
	fmt.Println("pruned below 20 or less:", rep.Pruned.Below == res.Below && res.Below <= 20)
	fmt.Println("by the record at entry:", rep.Pruned.Record)
	// Output:
	// valid: true
	// pruned below 20 or less: true
	// by the record at entry: 40
}

// Obtain RFC 3161 timestamps over the log's checkpoints from a TSA, and
// see how far they reach. (A test TSA stands in for a real one here.)
func ExampleOptions_timestamper() {
	authority, _ := testtsa.New(testtsa.Options{})
	srv := httptest.NewServer(authority)
	defer srv.Close()

	dir, _ := os.MkdirTemp("", "sealog-example-")
	defer os.RemoveAll(dir)
	skey, _, _ := sealog.GenerateKey("example.com/audit")
	key, _ := sealog.ParseKey(skey)
	c, err := tsa.New(tsa.Options{URL: srv.URL})
	if err != nil {
		log.Fatal(err)
	}
	l, err := sealog.Open(filepath.Join(dir, "audit"), sealog.Options{Key: key, Timestamper: c})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	if _, err := l.Append(context.Background(), sealog.Event{Kind: "user.login"}); err != nil {
		log.Fatal(err)
	}
	for l.TimestampStatus().Size < 1 { // the stamper runs beside the appends
		time.Sleep(time.Millisecond)
	}
	st := l.TimestampStatus()
	fmt.Println("timestamped:", st.Size, "of", st.Head, "entries")
	// Output:
	// timestamped: 1 of 1 entries
}

// Complete a receipt with the RFC 3161 timestamp that covers it, once the
// log's TSA has stamped a checkpoint, and check it offline: the receipt
// alone proves when the entry existed. (A test TSA stands in for a real
// one here.)
func ExampleLog_AddTimestamp() {
	authority, _ := testtsa.New(testtsa.Options{})
	srv := httptest.NewServer(authority)
	defer srv.Close()

	dir, _ := os.MkdirTemp("", "sealog-example-")
	defer os.RemoveAll(dir)
	skey, vkey, _ := sealog.GenerateKey("example.com/audit")
	key, _ := sealog.ParseKey(skey)
	c, _ := tsa.New(tsa.Options{URL: srv.URL})
	l, err := sealog.Open(filepath.Join(dir, "audit"), sealog.Options{Key: key, Timestamper: c, ReceiptProofs: true})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	r, err := l.Append(ctx, sealog.Event{Kind: "user.login"})
	if err != nil {
		log.Fatal(err)
	}
	for l.TimestampStatus().Size < 1 { // the stamper runs beside the appends
		time.Sleep(time.Millisecond)
	}
	if ok, err := l.AddTimestamp(ctx, &r); !ok || err != nil {
		log.Fatal(ok, err)
	}

	// The receipt's holder, with the log's key and the TSA's root.
	roots, _ := tsa.ParseRoots(authority.CAPEM)
	_, tc, err := verify.VerifyReceiptTimestamp(r, vkey, tstoken.Checker{Roots: roots})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("entry", r.Seq, "existed before the time of", tc.TSA, "("+tc.Signer+")")
	// Output:
	// entry 0 existed before the time of CN=sealog test TSA (trusted)
}
