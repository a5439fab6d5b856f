package postgres_test

import (
	"context"
	"log"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/store/postgres"
)

// A log in schema audit of a PostgreSQL database, written through
// sealog.New. Any number of processes may do the same at once: each
// batches its own callers, and the head row orders the batches.
func ExampleOpen() {
	ctx := context.Background()
	key, err := sealog.LoadKey("/etc/sealog/audit.key")
	if err != nil {
		log.Fatal(err)
	}
	st, err := postgres.Open(ctx, "postgres://sealog@db.example/prod?schema=audit", postgres.Options{
		Origin: key.Origin(), Key: key.VerifierKey(), // create the log if the schema holds none
	})
	if err != nil {
		log.Fatal(err)
	}
	l, err := sealog.New(ctx, st, sealog.Options{Key: key}) // l closes st
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	if _, err := l.Append(ctx, sealog.Event{Kind: "user.login", Actor: "alice@example.com"}); err != nil {
		log.Fatal(err)
	}
}
