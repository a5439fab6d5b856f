package client_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/client"
)

// Example appends an event to a sealog server and handles the evidence
// of a rolled-back or forked log.
func Example() {
	c, err := client.New(client.Config{
		URL:         "http://127.0.0.1:8080",
		Token:       os.Getenv("SEALOG_TOKEN"),
		VerifierKey: os.Getenv("SEALOG_VERIFIER_KEY"), // pinned
		StateFile:   "sealog-client.json",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	r, err := c.Append(context.Background(), sealog.Event{Kind: "user.login", Actor: "alice"})
	var ce *client.ConsistencyError
	switch {
	case errors.As(err, &ce):
		// ce.Old and ce.New are two signed checkpoints that cannot both
		// be states of one append-only log: keep them.
		fmt.Println("the log was tampered with:", ce)
	case err != nil:
		fmt.Println(err)
	default:
		fmt.Println("entry", r.Seq, "is in the log; keep the receipt")
	}
}
