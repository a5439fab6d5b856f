package bundle

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/format"
)

// Result is the outcome of verifying a bundle.
type Result struct {
	// Valid says the checkpoint's signature verifies with Key and every
	// entry's line, leaf hash and inclusion proof check out.
	Valid  bool   `json:"valid"`
	Origin string `json:"origin"`
	// Key is the verifier key the checkpoint was checked with.
	// KeyFromBundle says it was the bundle's own, which proves only that
	// the bundle agrees with itself, not who signed it.
	Key           string `json:"key"`
	KeyFromBundle bool   `json:"key_from_bundle"`
	// Checkpoint is what the checkpoint says (parsed even when its
	// signature fails, for the report).
	Checkpoint CheckpointInfo `json:"checkpoint"`
	Entries    []EntryResult  `json:"entries"`
	// Timestamp is what the bundle's RFC 3161 timestamp says; nil when it
	// has none.
	Timestamp *TimestampResult `json:"timestamp,omitempty"`
	// Problems lists what failed, in order.
	Problems []string `json:"problems"`
}

// CheckpointInfo describes the bundle's checkpoint.
type CheckpointInfo struct {
	Size        uint64    `json:"size"`
	Root        tlog.Hash `json:"root"`
	SignatureOK bool      `json:"signature_ok"`
	// UnverifiedSignatures counts the other signature lines on the note
	// (witness cosignatures, perhaps). They are not verified, so they show
	// nothing, and their names are not listed: a name is not a witness.
	UnverifiedSignatures int `json:"unverified_signatures,omitempty"`
}

// EntryResult is one entry of a verified bundle, decoded.
type EntryResult struct {
	Seq      uint64          `json:"seq"`
	Time     time.Time       `json:"time"`
	Kind     string          `json:"kind,omitempty"`
	Actor    string          `json:"actor,omitempty"`
	Resource string          `json:"resource,omitempty"`
	Payload  json.RawMessage `json:"payload,omitempty"`
	Erased   bool            `json:"erased"`
	LeafHash tlog.Hash       `json:"leaf_hash"`
	// Verified says the line is canonical and its inclusion proof ties its
	// leaf hash to the checkpoint's root.
	Verified bool   `json:"verified"`
	Problem  string `json:"problem,omitempty"`
}

// Verify parses data and verifies the bundle with the verifier key vkey;
// an empty vkey means the bundle's own key. It returns an error only when
// data is not a well-formed bundle (see Parse).
func Verify(data []byte, vkey string) (*Result, error) {
	b, err := Parse(data)
	if err != nil {
		return nil, err
	}
	return b.Verify(vkey), nil
}

// Verify checks b offline with the verifier key vkey (empty: the bundle's
// own key): the checkpoint's signature and origin, and for each entry its
// line's canonical form, its seq, its leaf hash and its inclusion proof.
// Consecutive entries must also chain (prev), and each erased entry must
// come with the erasure record that names it. A timestamp, if the bundle
// has one, must cover its checkpoint (VerifyTSA also checks who signed
// it).
func (b *Bundle) Verify(vkey string) *Result { return b.verify(vkey, nil) }

func (b *Bundle) verify(vkey string, roots []*x509.Certificate) *Result {
	r := &Result{Origin: b.Origin, Key: vkey, Entries: []EntryResult{}, Problems: []string{}}
	if vkey == "" {
		r.Key, r.KeyFromBundle = b.Key, true
	}
	fail := func(format string, args ...any) { r.Problems = append(r.Problems, fmt.Sprintf(format, args...)) }

	ck, ckOK := b.openCheckpoint(r, fail)
	results := make([]EntryResult, len(b.Entries))
	for i := range b.Entries {
		results[i].Seq = b.Entries[i].Seq
		results[i].Problem = checkEntry(&b.Entries[i], &results[i], ck, ckOK)
	}
	unlicensed := b.checkErasures(results)
	for i := range b.Entries {
		e := &b.Entries[i]
		er := results[i]
		if p, ok := unlicensed[e.Seq]; ok && er.Problem == "" {
			er.Problem = p
		}
		if i > 0 && er.Problem == "" && e.Seq == b.Entries[i-1].Seq+1 {
			if prev := r.Entries[i-1]; prev.Problem == "" {
				if ln, _ := format.ParseLine([]byte(e.Line)); ln.Prev != prev.LeafHash {
					er.Problem = fmt.Sprintf("its prev is not the leaf hash of entry %d", prev.Seq)
				}
			}
		}
		er.Verified = er.Problem == "" && ckOK
		if er.Problem != "" {
			fail("entry %d: %s", e.Seq, er.Problem)
		}
		r.Entries = append(r.Entries, er)
	}
	if ckOK {
		if r.Timestamp = b.checkTimestamp(ck, roots); r.Timestamp != nil && r.Timestamp.Status == "bad" {
			fail("%s", r.Timestamp.Problem)
		}
	}
	r.Valid = len(r.Problems) == 0
	return r
}

// openCheckpoint checks the checkpoint's signature with r.Key.
func (b *Bundle) openCheckpoint(r *Result, fail func(string, ...any)) (checkpoint.Checkpoint, bool) {
	if c, err := checkpoint.ParseUnverified([]byte(b.Checkpoint)); err == nil {
		r.Checkpoint.Size, r.Checkpoint.Root = c.Size, c.Root
	}
	v, err := note.NewVerifier(r.Key)
	if err != nil {
		fail("the verifier key is malformed: %v", err)
		return checkpoint.Checkpoint{}, false
	}
	if v.Name() != b.Origin {
		fail("the verifier key is for %q, but the bundle's origin is %q", v.Name(), b.Origin)
		return checkpoint.Checkpoint{}, false
	}
	c, n, err := checkpoint.Verify([]byte(b.Checkpoint), v, b.Origin)
	if err != nil {
		fail("the checkpoint does not verify with the key %s: %v", r.Key, err)
		return checkpoint.Checkpoint{}, false
	}
	r.Checkpoint.SignatureOK = true
	r.Checkpoint.UnverifiedSignatures = len(n.Sigs) - 1
	return c, true
}

// checkEntry decodes e into er and returns what is wrong with it, or "".
func checkEntry(e *Entry, er *EntryResult, ck checkpoint.Checkpoint, ckOK bool) string {
	ln, err := format.ParseLine([]byte(e.Line))
	if err != nil {
		return fmt.Sprintf("its line is not a canonical sealog entry line: %v", err)
	}
	if ln.Seq != e.Seq {
		return fmt.Sprintf("its line says seq %d", ln.Seq)
	}
	h := ln.Header()
	er.Time = time.Unix(0, ln.Time).UTC()
	er.LeafHash = h.LeafHash()
	er.Erased = ln.Erased
	if !ln.Erased {
		ev, err := format.ParseEvent(ln.Event)
		if err != nil {
			return fmt.Sprintf("its event does not decode: %v", err)
		}
		er.Kind, er.Actor, er.Resource, er.Payload = ev.Kind, ev.Actor, ev.Resource, ev.Payload
	}
	proof := make(tlog.RecordProof, len(e.Proof))
	for i, s := range e.Proof {
		b, err := base64.StdEncoding.Strict().DecodeString(s)
		if err != nil || len(b) != tlog.HashSize {
			return fmt.Sprintf("proof hash %d is not 32 bytes of base64", i)
		}
		copy(proof[i][:], b)
	}
	if !ckOK {
		return ""
	}
	if e.Seq >= ck.Size {
		return fmt.Sprintf("the checkpoint covers only %d entries", ck.Size)
	}
	if err := tlog.CheckRecord(proof, int64(ck.Size), ck.Root, int64(e.Seq), er.LeafHash); err != nil {
		return "its inclusion proof does not lead to the checkpoint's root: the line was changed, or the proof is wrong"
	}
	return ""
}
