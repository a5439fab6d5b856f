// Package client is the Go client of a sealog server (package server,
// 'sealog serve') that trusts nothing it cannot check.
//
// It pins the log's verifier key. Every receipt it returns was checked
// before: the checkpoint's signature, the inclusion proof of the leaf in
// the checkpoint's tree, and the stored line, which must hash to the leaf
// and hold exactly the event sent. It keeps the last checkpoint it
// verified (in memory, and in Config.StateFile if set) and checks every
// newer one against it with a consistency proof: a log that was rolled
// back or forked is a *ConsistencyError carrying both signed checkpoints
// and the proof, evidence for a third party rather than a message.
//
// Appends are retried on network errors and 429/502/503/504 answers with
// the same Idempotency-Key, so that a retry never appends twice.
//
//	c, err := client.New(client.Config{
//		URL:         "https://audit.example.com",
//		Token:       os.Getenv("SEALOG_TOKEN"),
//		VerifierKey: "audit.example.com+1234abcd+AbC...",
//		StateFile:   "sealog-client.json",
//	})
//	...
//	r, err := c.Append(ctx, sealog.Event{Kind: "user.login", Actor: "alice"})
//	var ce *client.ConsistencyError
//	if errors.As(err, &ce) {
//		// ce.Old and ce.New are the evidence: keep them.
//	}
package client
