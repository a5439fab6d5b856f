// Package witness is a C2SP tlog-witness (https://c2sp.org/tlog-witness):
// an HTTP service that cosigns a log's checkpoints after checking that
// each is consistent with the last one it cosigned for that log.
//
// A Witness is an http.Handler serving
//
//	POST /add-checkpoint          the tlog-witness submission API
//	GET  /<sha256(origin)>/checkpoint  the latest checkpoint it cosigned
//
// It answers exactly as the spec says: 200 with one Ed25519
// cosignature/v1 line (c2sp.org/tlog-cosignature, key type 0x04,
// timestamped); 404 for an origin it does not follow; 403 without a valid
// signature by a key it trusts for the origin; 400 for a malformed request
// or an old size above the checkpoint's; 409 with Content-Type
// text/x.tlog.size and the size it last cosigned when the request's old
// size is another; 422 when the consistency proof does not verify (or a
// checkpoint of the same size has another root).
//
// Per origin it keeps only the latest cosigned checkpoint, in a State
// (one file per origin, replaced atomically and fsynced before the answer
// is sent). The check against that state and its update happen under one
// lock per origin, and the state directory is locked against a second
// process, so neither a crash nor concurrent requests can make it cosign
// two checkpoints that are not one a prefix of the other.
package witness
