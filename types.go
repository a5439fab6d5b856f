package sealog

import (
	"encoding/json"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// Event is what an application records.
type Event struct {
	// Kind says what happened, e.g. "user.login" or "invoice.approve".
	// Required.
	Kind string `json:"kind"`
	// Actor says who did it (a user, a service). Optional.
	Actor string `json:"actor,omitempty"`
	// Resource says what it was done to. Optional.
	Resource string `json:"resource,omitempty"`
	// Payload holds the details: a value that encodes to a JSON object
	// (a map, a struct), or a json.RawMessage holding one. nil records {}.
	Payload any `json:"payload,omitempty"`
}

// Entry is an event as the log holds it.
type Entry struct {
	Seq      uint64
	Time     time.Time
	Kind     string
	Actor    string
	Resource string
	Payload  json.RawMessage // the exact committed bytes; nil when erased
	// Erased is set when the event's body was erased (GDPR): the header and
	// the body commitment remain, so the log still verifies.
	Erased   bool
	LeafHash tlog.Hash
	BodyHash tlog.Hash
	Prev     tlog.Hash
	// Line is the entry's stored line, without its newline.
	Line []byte
}

// Checkpoint is a signed checkpoint and what it says.
type Checkpoint struct {
	Origin string
	Size   uint64
	Root   tlog.Hash
	// Note is the signed note, in C2SP signed-note text form.
	Note []byte
}
