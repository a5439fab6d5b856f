// Package sealog is a tamper-evident audit log. An application records
// audit events with Append; sealog seals them into an append-only log
// (salted body commitments, a SHA-256 hash chain, an RFC 6962 Merkle tree,
// Ed25519-signed C2SP checkpoints) so that anyone holding the log's public
// key can later prove, offline, that no event was changed, removed,
// inserted, reordered or cut off.
//
// A log lives in a directory (the embedded file store, no server):
//
//	skey, vkey, _ := sealog.GenerateKey("example.com/audit")
//	key, _ := sealog.ParseKey(skey)
//	log, err := sealog.Open("audit-log", sealog.Options{Key: key})
//	...
//	r, err := log.Append(ctx, sealog.Event{
//		Kind:     "user.login",
//		Actor:    "alice@example.com",
//		Resource: "app/console",
//		Payload:  map[string]any{"ip": "203.0.113.9", "mfa": true},
//	})
//	// r.Seq, r.LeafHash and r.Checkpoint (signed) prove the event is in the log;
//	// log.Prove(ctx, &r) adds the inclusion proof that ties them together.
//	...
//	log.Close()
//
// Append returns only after the event is durable (fsync) and signed.
// Concurrent appends are grouped: one write, one fsync and one signature
// per batch. Past Options.MaxPending waiting appends, Append fails at once
// with ErrOverloaded; Shutdown drains what is in flight.
//
// Any store: New opens a log over any store.Store — the file store, an
// in-memory one (store/memstore), a database — and several Logs, in
// several processes, may append to one shared store at once: each batches
// its own callers, and the store's conditional append orders the batches
// (a Log that loses a race re-sequences its batch after the winner's).
//
// Package verify checks a log without trusting the writer;
// docs/FORMAT.md specifies every byte, so that other tools can too.
package sealog
