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
// It follows the log's key rotations by itself (docs/KEYS.md): given the
// log's first key, a checkpoint signed by a key it does not trust yet
// makes it find the rotation record in between through the read API and
// check it — in the log (its inclusion proof in a checkpoint signed by the
// key it hands over from, consistent with the trusted one), alone in its
// batch, naming that key as the previous one — before it trusts the key
// the record names, from the size after the record's batch on. A key is
// trusted only within its turn, and Config.Revocations are honoured. A
// checkpoint signed by a key no valid rotation hands over to is a
// *RotationError with the evidence. The chain (Keys) is kept with the
// checkpoint, in memory and in Config.StateFile.
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
//	var re *client.RotationError
//	if errors.As(err, &ce) || errors.As(err, &re) {
//		// ce.Old and ce.New (re.Trusted, re.New, re.Record) are the
//		// evidence: keep them.
//	}
package client
