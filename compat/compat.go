package compat

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Format names a legacy log format.
type Format string

// The three formats sealog can verify and import.
const (
	Spine            Format = "spine"             // Spine WAL v1 ("spine-wal-v1")
	Spanforge        Format = "spanforge"         // spanforge audit chain ("spanforge-chain")
	ImmutableLogging Format = "immutable-logging" // immutable-logging log + .integrity sidecar
)

// Formats lists the supported formats.
var Formats = []Format{Spine, Spanforge, ImmutableLogging}

// ParseFormat accepts "spine", "spine-wal-v1", "spanforge",
// "spanforge-chain" and "immutable-logging" (case-insensitive; "_" may stand
// for "-").
func ParseFormat(s string) (Format, error) {
	switch strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "_", "-") {
	case "spine", "spine-wal-v1", "spine-wal":
		return Spine, nil
	case "spanforge", "spanforge-chain":
		return Spanforge, nil
	case "immutable-logging", "immutablelogging":
		return ImmutableLogging, nil
	}
	return "", fmt.Errorf("unknown format %q: want spine, spanforge or immutable-logging", s)
}

// Options are what Verify and Walk are given from outside the log.
type Options struct {
	Trust  Trust
	Anchor *Anchor
}

// Record is one legacy record, as sealog import needs it.
type Record struct {
	Format Format `json:"format"`
	// Index is the record's 0-based position as FirstInvalid counts it:
	// over all segments for Spine, within File for immutable-logging sets.
	Index int `json:"index"`
	// Ordinal is the 0-based position over everything Walk reads.
	Ordinal int    `json:"ordinal"`
	File    string `json:"file"`
	Line    int    `json:"line"` // 1-based line number in File
	// Raw is the line exactly as stored, without its '\n'.
	Raw []byte `json:"raw"`
	// Hash is the record's own hash as the format defines it: the Spine
	// entry hash (computed: Spine stores it only as the next prev_hash), the
	// spanforge signature, the immutable-logging sidecar H.
	Hash string `json:"hash"`
	// PrevHash links to the record before: Spine prev_hash, spanforge
	// prev_id, immutable-logging P.
	PrevHash string `json:"prev_hash,omitempty"`
	// Checksum is the Spine payload_hash or the spanforge checksum.
	Checksum string `json:"checksum,omitempty"`
	// Sidecar is the immutable-logging sidecar line, as stored.
	Sidecar []byte `json:"sidecar,omitempty"`
	EventID string `json:"event_id,omitempty"`
	// Time is the record's time if the format has one: Spine ts_client,
	// spanforge timestamp, or the leading timestamp of an immutable-logging
	// line (written in the writer's local time; read as UTC). Zero if none.
	Time time.Time `json:"time,omitzero"`
	// Kind, Actor and Resource are candidates for a sealog event: Spine
	// payload event_type/type, actor/user, resource/target; spanforge
	// event_type, actor_id, source; immutable-logging level, -, logger.
	Kind     string `json:"kind,omitempty"`
	Actor    string `json:"actor,omitempty"`
	Resource string `json:"resource,omitempty"`
	// Payload is the raw JSON of the Spine or spanforge payload.
	Payload []byte `json:"payload,omitempty"`
	KeyID   string `json:"key_id,omitempty"`
	// Verified is true when the record passed every per-record check.
	Verified bool `json:"verified"`
	// Problem says why it did not.
	Problem   string `json:"problem,omitempty"`
	Tombstone bool   `json:"tombstone,omitempty"`
}

// Verify streams the log at path and returns a Report. The path is a Spine
// WAL directory, a spanforge JSONL file, or an immutable-logging log file
// (its .integrity sidecar and rotated siblings are found beside it). Memory
// stays flat whatever the size. It returns an error only when the input
// cannot be read at all (missing path, permission, not this format, ctx
// cancelled); a damaged or tampered log gives a Report with Valid false.
func Verify(ctx context.Context, f Format, path string, opts Options) (*Report, error) {
	return run(ctx, f, path, opts, nil)
}

// Walk streams the records of the log at path in file order, calling fn
// for each with its verification status; it stops at fn's first error and
// returns it. Checks that concern the log as a whole (head state, anchor,
// missing records at the end) are in Verify's Report, not on records.
func Walk(ctx context.Context, f Format, path string, opts Options, fn func(Record) error) error {
	if fn == nil {
		return fmt.Errorf("walk %s: nil callback", path)
	}
	_, err := run(ctx, f, path, opts, fn)
	return err
}

func run(ctx context.Context, f Format, path string, opts Options, fn func(Record) error) (*Report, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	switch f {
	case Spine:
		return verifySpine(ctx, path, opts, fn)
	case Spanforge:
		return verifySpanforge(ctx, path, opts, fn)
	case ImmutableLogging:
		return verifyImmutable(ctx, path, opts, fn)
	}
	if g, err := ParseFormat(string(f)); err == nil {
		return run(ctx, g, path, opts, fn)
	}
	return nil, fmt.Errorf("verify %s: unknown format %q", path, f)
}
