package sqlite_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/store/sqlite"
)

// A log in a SQLite file, written through sealog.New. Several processes
// may do the same on one file at once.
func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "sealog-example-")
	defer os.RemoveAll(dir)
	ctx := context.Background()

	skey, vkey, _ := sealog.GenerateKey("example.com/audit")
	key, _ := sealog.ParseKey(skey)
	st, err := sqlite.Open(filepath.Join(dir, "audit.db"), sqlite.Options{Origin: key.Origin(), Key: vkey})
	if err != nil {
		log.Fatal(err)
	}
	l, err := sealog.New(ctx, st, sealog.Options{Key: key}) // l closes st
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	r, err := l.Append(ctx, sealog.Event{Kind: "user.login", Actor: "alice@example.com"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("entry", r.Seq)
	// Output: entry 0
}
