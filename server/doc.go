// Package server is sealog's HTTP API: an http.Handler over a
// *sealog.Log that appends events and hands back receipts anyone can
// check, serves entries and proofs, and serves the log as a C2SP
// tiled transparency log (tlog-checkpoint, tlog-tiles) that any C2SP
// client can verify with nothing but the verifier key.
//
// docs/API.md describes every endpoint; openapi.yaml (OpenAPI 3, served
// at /openapi.yaml and returned by OpenAPI) is the machine-readable
// form, checked against real requests and responses by the tests.
//
// A server is configured by one Config. It needs a Log open for writing
// and a tokens file (bearer tokens with the roles append, read and
// admin, kept as SHA-256 hashes):
//
//	tokens, err := server.OpenTokens("tokens.json")
//	...
//	srv, err := server.New(ctx, server.Config{
//		Log:             l,
//		Tokens:          tokens,
//		IdempotencyFile: "idempotency.jsonl",
//		Logger:          logger,
//	})
//	...
//	hs := &http.Server{Addr: "127.0.0.1:8080", Handler: srv}
//	go hs.ListenAndServe()
//	...
//	hs.Shutdown(ctx) // stop accepting, finish the requests in flight
//	srv.Close()      // flush the idempotency journal
//	l.Shutdown(ctx)  // make the last appends durable
//
// The package links the HTTP and metrics code that the root package must
// not: the root package stays a library without a server.
package server
