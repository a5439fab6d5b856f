// Quickstart is the smallest complete use of sealog as a library: it
// creates a log, records audit events, verifies the log with the public
// key alone, then changes one event in a copy and shows verification
// catching it.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/verify"
)

func main() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "sealog-quickstart-")
	if err != nil {
		log.Fatal(err)
	}

	// A key pair: the secret half signs, the public half is what auditors
	// get.
	skey, vkey, err := sealog.GenerateKey("quickstart.example/audit")
	if err != nil {
		log.Fatal(err)
	}
	key, err := sealog.ParseKey(skey)
	if err != nil {
		log.Fatal(err)
	}

	// Open creates the log; Append returns once the event is on disk and
	// signed.
	logDir := filepath.Join(dir, "audit-log")
	l, err := sealog.Open(logDir, sealog.Options{Key: key})
	if err != nil {
		log.Fatal(err)
	}
	events := []sealog.Event{
		{Kind: "user.login", Actor: "alice@example.com", Resource: "app/console", Payload: map[string]any{"ip": "203.0.113.9", "mfa": true}},
		{Kind: "invoice.approve", Actor: "alice@example.com", Resource: "invoice/2026-0042", Payload: map[string]any{"amount_eur": 1200}},
		{Kind: "role.grant", Actor: "bob@example.org", Resource: "user/carol", Payload: map[string]any{"role": "admin"}},
	}
	for _, ev := range events {
		r, err := l.Append(ctx, ev)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("recorded #%d %s by %s\n", r.Seq, ev.Kind, ev.Actor)
	}
	if err := l.Close(); err != nil {
		log.Fatal(err)
	}

	// Verify with the public key only.
	report(ctx, "the log", logDir, vkey)

	// Someone edits the approved amount in a copy of the log.
	copyDir := filepath.Join(dir, "tampered-copy")
	if err := os.CopyFS(copyDir, os.DirFS(logDir)); err != nil {
		log.Fatal(err)
	}
	seg := filepath.Join(copyDir, layout.SegmentsDir, layout.SegmentName(0, false))
	b, err := os.ReadFile(seg)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(seg, []byte(strings.Replace(string(b), `"amount_eur":1200`, `"amount_eur":12000`, 1)), 0o644); err != nil {
		log.Fatal(err)
	}
	report(ctx, "the tampered copy", copyDir, vkey)
	fmt.Println("files left in", dir)
}

func report(ctx context.Context, what, dir, vkey string) {
	rep, err := verify.Verify(ctx, verify.Dir(dir), verify.Options{Key: vkey})
	if err != nil {
		log.Fatal(err)
	}
	if rep.Valid {
		fmt.Printf("%s: VALID, %d entries, all signed\n", what, rep.Entries)
		return
	}
	fmt.Printf("%s: TAMPERED at entry %d: %s\n", what, *rep.FirstInvalid, rep.FirstProblem.Reason)
}
