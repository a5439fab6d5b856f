package verify_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/verify"
)

// Verify a log against the key the auditor trusts and a checkpoint saved
// earlier, which rules out that entries were cut off the end since.
func ExampleVerify() {
	dir, _ := os.MkdirTemp("", "sealog-example-")
	defer os.RemoveAll(dir)
	skey, vkey, _ := sealog.GenerateKey("example.com/audit")
	key, _ := sealog.ParseKey(skey)
	l, _ := sealog.Open(filepath.Join(dir, "log"), sealog.Options{Key: key})
	ctx := context.Background()
	for i := 0; i < 100; i++ {
		l.Append(ctx, sealog.Event{Kind: "doc.read", Actor: "alice", Payload: map[string]int{"doc": i}})
	}
	saved, _ := l.Checkpoint(context.Background()) // the auditor keeps saved.Note elsewhere
	l.Append(ctx, sealog.Event{Kind: "doc.read", Actor: "bob"})
	l.Close()

	rep, err := verify.Verify(ctx, verify.Dir(filepath.Join(dir, "log")), verify.Options{
		Key:         vkey,
		Checkpoints: [][]byte{saved.Note},
	})
	if err != nil {
		log.Fatal(err) // the log could not be read at all
	}
	fmt.Println("valid:", rep.Valid)
	fmt.Println("entries:", rep.Entries, "authenticated:", rep.Authenticated)
	fmt.Println("truncation ruled out:", rep.TruncationChecked)
	// Output:
	// valid: true
	// entries: 101 authenticated: 101
	// truncation ruled out: true
}
