// Package bundle builds and verifies sealog evidence: bundles that hold a
// few entries of a log with their inclusion proofs, and proof files for
// one entry (C2SP tlog-proof) or between two checkpoints.
//
// An evidence bundle is what is handed to a regulator who asks about
// specific events: their exact stored lines, an inclusion proof for each,
// the signed checkpoint they are proven against, and the log's origin and
// verifier key. It is checked offline, without the rest of the log, and
// reveals nothing of the other events: the proofs hold only sibling
// hashes, and each entry's body is committed with its own random salt.
// docs/BUNDLE.md specifies the format.
//
//	b, err := bundle.Build(ctx, log, []uint64{5, 17}, bundle.Options{})
//	data := b.Marshal()
//	...
//	res, err := bundle.Verify(data, trustedVerifierKey)
//	if err != nil { ... }      // not a bundle at all
//	if !res.Valid { ... }      // res.Problems says what failed
package bundle

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/internal/strictjson"
)

// Version is the value of a bundle's "bundle" member.
const Version = "sealog-bundle/v1"

// MaxSize is the largest bundle Parse accepts.
const MaxSize = 256 << 20

// MaxEntries is the most entries a bundle may hold.
const MaxEntries = 100000

// ErrNotBundle is returned (wrapped) by Parse for input that is not a
// sealog bundle at all: not a JSON object, or another "bundle" version.
var ErrNotBundle = errors.New("not a sealog evidence bundle")

// Bundle is an evidence bundle, as stored (docs/BUNDLE.md).
type Bundle struct {
	// Version is "sealog-bundle/v1".
	Version string `json:"bundle"`
	// Origin is the log's origin.
	Origin string `json:"origin"`
	// Key is the log's verifier key, as the log stores it. Verifying with
	// it proves only that the bundle agrees with itself.
	Key string `json:"key"`
	// Checkpoint is the signed checkpoint (C2SP signed note) every entry
	// is proven against.
	Checkpoint string `json:"checkpoint"`
	// Entries are the entries, in ascending seq order.
	Entries []Entry `json:"entries"`
	// Timestamp, if set, is an RFC 3161 timestamp response (DER, base64)
	// over the checkpoint's text: every entry existed before its time
	// (docs/BUNDLE.md, docs/TIME.md).
	Timestamp string `json:"timestamp,omitempty"`
}

// Entry is one entry of a bundle.
type Entry struct {
	Seq uint64 `json:"seq"`
	// Line is the entry's stored line (without its newline), exactly.
	Line string `json:"line"`
	// Proof is its inclusion proof in the checkpoint's tree: RFC 6962
	// audit path hashes, leaf's sibling first, base64.
	Proof []string `json:"proof"`
}

// Options configure Build.
type Options struct {
	// Size is the size of the checkpoint to prove the entries against: the
	// end of a batch (see sealog.Log.CheckpointAt). 0 means the log's
	// latest checkpoint.
	Size uint64
	// Timestamped, with Size 0, proves the entries against the newest
	// checkpoint that has an RFC 3161 timestamp (an error if none covers
	// them). Whatever the checkpoint, its timestamp, if the log has one,
	// goes in the bundle.
	Timestamped bool
}

// Source is the log a bundle is built from: a *sealog.Log (a log of this
// process), or a *client.Client (a log behind `sealog serve`, every answer
// checked against the pinned key).
type Source interface {
	Origin() string
	VerifierKey() string
	// CheckpointAt returns the signed checkpoint of the first size entries
	// (the end of a batch), or the latest for size 0.
	CheckpointAt(ctx context.Context, size uint64) (sealog.Checkpoint, error)
	// Entry returns entry seq, proven against a signed checkpoint.
	Entry(ctx context.Context, seq uint64) (sealog.Entry, error)
	// InclusionProof returns the proof of entry seq in the tree of size.
	InclusionProof(ctx context.Context, seq, size uint64) (tlog.RecordProof, error)
	// Entries returns the entries [from, to); Build proves each one it
	// puts in a bundle.
	Entries(ctx context.Context, from, to uint64) iter.Seq2[sealog.Entry, error]
}

// Build makes a bundle of the entries seqs of l, proven against l's
// latest signed checkpoint (or the one at opts.Size). For each erased
// entry among them it adds the erasure record that names it (see
// docs/BUNDLE.md), which costs a read of the log from that entry on.
func Build(ctx context.Context, l Source, seqs []uint64, opts Options) (*Bundle, error) {
	if len(seqs) == 0 {
		return nil, errors.New("no entries to bundle")
	}
	if len(seqs) > MaxEntries {
		return nil, fmt.Errorf("%d entries: a bundle holds at most %d", len(seqs), MaxEntries)
	}
	if opts.Size == 0 && opts.Timestamped {
		var err error
		if opts.Size, err = timestampSize(ctx, l, seqs); err != nil {
			return nil, err
		}
	}
	ck, err := l.CheckpointAt(ctx, opts.Size)
	if err != nil {
		return nil, err
	}
	b := &Bundle{Version: Version, Origin: l.Origin(), Key: l.VerifierKey(), Checkpoint: string(ck.Note)}
	var last uint64
	for i, seq := range seqs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if i > 0 && seq <= last {
			return nil, fmt.Errorf("seqs must be ascending and distinct (%d after %d)", seq, last)
		}
		last = seq
		if seq >= ck.Size {
			return nil, fmt.Errorf("entry %d is not covered by the checkpoint (size %d)", seq, ck.Size)
		}
		e, err := b.entry(ctx, l, seq, ck.Size)
		if err != nil {
			return nil, err
		}
		b.Entries = append(b.Entries, e)
	}
	if err := b.addErasureRecords(ctx, l, ck.Size); err != nil {
		return nil, err
	}
	if err := b.addTimestamp(ctx, l, ck.Size); err != nil {
		return nil, err
	}
	return b, nil
}

// entry reads entry seq of l and its inclusion proof in the tree of size.
func (b *Bundle) entry(ctx context.Context, l Source, seq, size uint64) (Entry, error) {
	en, err := l.Entry(ctx, seq)
	if err != nil {
		return Entry{}, err
	}
	p, err := l.InclusionProof(ctx, seq, size)
	if err != nil {
		return Entry{}, err
	}
	if !utf8.Valid(en.Line) {
		return Entry{}, fmt.Errorf("entry %d: its line is not valid UTF-8", seq)
	}
	e := Entry{Seq: seq, Line: string(en.Line), Proof: make([]string, len(p))}
	for j, h := range p {
		e.Proof[j] = h.String()
	}
	return e, nil
}

// Marshal encodes b as indented JSON followed by a newline. HTML
// characters are not escaped, so lines read as stored.
func (b *Bundle) Marshal() []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(b); err != nil {
		panic("bundle: " + err.Error()) // only strings, numbers and lists
	}
	return buf.Bytes()
}

// Parse decodes a bundle. It checks the structure only: the version, the
// members and their types, and nothing else (Verify checks the content).
// A member it does not know, one spelled in another case, or one that
// appears twice, at either level, is an error (docs/BUNDLE.md): JSON
// readers differ on those, and a bundle must read the same in all of them.
// Input that is not a JSON object or has another version gives an error
// wrapping ErrNotBundle.
func Parse(data []byte) (*Bundle, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%w: %d bytes, over the %d-byte limit", ErrNotBundle, len(data), MaxSize)
	}
	// Whether it is a bundle at all: a JSON object with a "bundle" member
	// (spelled so) of this version. (A map's keys are matched exactly.)
	var head map[string]json.RawMessage
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotBundle, err)
	}
	var version string
	if raw, ok := head["bundle"]; !ok {
		return nil, fmt.Errorf("%w: no \"bundle\" member", ErrNotBundle)
	} else if err := json.Unmarshal(raw, &version); err != nil || version != Version {
		return nil, fmt.Errorf("%w: version %s (this reader knows %q)", ErrNotBundle, raw, Version)
	}
	// Then strictly: every member known and spelled exactly, none twice,
	// at any level, so that every JSON reader sees this same bundle.
	var b Bundle
	if err := strictjson.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("malformed bundle: %v", err)
	}
	switch {
	case b.Origin == "":
		return nil, errors.New("malformed bundle: no origin")
	case b.Key == "":
		return nil, errors.New("malformed bundle: no key")
	case b.Checkpoint == "":
		return nil, errors.New("malformed bundle: no checkpoint")
	case len(b.Entries) == 0:
		return nil, errors.New("malformed bundle: no entries")
	case len(b.Entries) > MaxEntries:
		return nil, fmt.Errorf("malformed bundle: %d entries, over the limit of %d", len(b.Entries), MaxEntries)
	}
	for i, e := range b.Entries {
		if i > 0 && e.Seq <= b.Entries[i-1].Seq {
			return nil, fmt.Errorf("malformed bundle: entries must be in ascending seq order without repeats (%d after %d)", e.Seq, b.Entries[i-1].Seq)
		}
		if e.Line == "" {
			return nil, fmt.Errorf("malformed bundle: entry %d has no line", e.Seq)
		}
		if len(e.Proof) > 64 {
			return nil, fmt.Errorf("malformed bundle: entry %d: a proof of %d hashes", e.Seq, len(e.Proof))
		}
	}
	return &b, nil
}
