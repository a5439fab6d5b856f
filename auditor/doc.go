// Package auditor watches sealog logs on behalf of someone who does not
// trust their operator: a directory, a database (postgres://, sqlite://)
// or a server (http://, https://). Each run verifies the log with package
// verify against the log's verifier key, which the auditor is given (it
// trusts nothing the log says about itself), and against the last
// checkpoint it trusted, kept in its own state file: every line is
// checked, the tree rebuilt from them must have that checkpoint's root at
// that checkpoint's size (the new tree extends the old one: consistency),
// and the log must still hold every entry the old checkpoint covers (no
// rollback). Only then does the auditor trust the log's new checkpoint,
// and write it to its state, atomically.
//
// A run's Result says valid, or why not: tampered (entries changed,
// missing, inserted, reordered), truncated (the log is smaller than the
// trusted checkpoint), forked (the log was rewritten from some point and
// re-signed), wrong-key, unsigned, incomplete, revoked (entries that only
// a key revoked by a statement in Config.Revocations vouches for),
// refused (by Config.CheckCheckpoint), or unreadable. Metrics
// (Prometheus) and a webhook (an HMAC-signed JSON payload) report each.
//
// The auditor opens logs read-only and never writes to them; several
// auditors, each with its own state, can watch one log.
//
//	a, err := auditor.New(auditor.Config{
//		Logs:  []auditor.Log{{Name: "/var/lib/audit", Key: vkey}},
//		State: "/var/lib/sealog-auditor/state.json",
//	})
//	if err != nil { ... }
//	defer a.Close()
//	for _, r := range a.RunOnce(ctx) {
//		fmt.Println(r.Log, r.Verdict) // "valid", or what was found
//	}
//
// docs/AUDIT.md says what this rules out and what it cannot.
package auditor
