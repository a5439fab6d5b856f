package client

import (
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/note"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/verify"
)

// TrustedKey is one key of the log's chain of keys (docs/KEYS.md) as the
// client follows it: Config.VerifierKey first, then each key a rotation
// record handed over to.
type TrustedKey struct {
	// VerifierKey is the key (note verifier key text).
	VerifierKey string `json:"verifier_key"`
	// From is the first tree size the key signs: 0 for the first key,
	// R+2 for the key named by the rotation record at seq R.
	From uint64 `json:"from"`
	// Rotation is the seq R of the rotation record that named the key (0
	// for the first key).
	Rotation uint64 `json:"rotation"`
	// Checkpoint is the evidence of the handover: the previous key's
	// signed checkpoint of size R+1, in which the record's inclusion
	// proof was checked. Line is the record's stored line. Both are empty
	// for the first key and for keys given in Config.Keys without them.
	Checkpoint string `json:"checkpoint,omitempty"`
	Line       string `json:"line,omitempty"`

	v note.Verifier
}

// RotationError is the evidence that the server handed out a checkpoint
// signed by a key the client does not trust and that no valid rotation
// record hands the log over to: a key out of its turn (the key of a
// rotated-out epoch signing a later tree), an unknown key with no rotation
// record in the log, or a rotation record that fails a check.
type RotationError struct {
	// Trusted is the checkpoint the client trusted when it refused (nil
	// before the first); New the checkpoint refused, as the server sent it.
	Trusted, New []byte
	// NewSize is New's tree size.
	NewSize uint64
	// Keys is the chain of keys the client trusted.
	Keys []TrustedKey
	// Record is the stored line of the rotation record at seq RecordSeq
	// that was refused, and RecordCheckpoint the checkpoint the server
	// gave for it; both empty when the log holds no record to check.
	Record           string
	RecordSeq        uint64
	RecordCheckpoint []byte
	// Reason says what failed.
	Reason string
}

func (e *RotationError) Error() string {
	return fmt.Sprintf("client: the checkpoint of size %d is not signed by a key the client trusts or a valid rotation hands over to: %s", e.NewSize, e.Reason)
}

// keyState is the keys the client trusts. It is replaced, never changed
// in place, so that a copy taken under Client.mu can be read without it.
type keyState struct {
	chain []TrustedKey
	more  []note.Verifier // Config.MoreKeys: trusted at every size
}

// revocation is a parsed revocation statement of Config.Revocations.
type revocation struct {
	r   verify.Revocation
	msg []byte
}

// initKeys builds the initial chain (Config.VerifierKey, then
// Config.Keys after it), the MoreKeys and the revocation statements.
func (c *Client) initKeys(v note.Verifier, cfg Config) error {
	ks := &keyState{chain: []TrustedKey{{VerifierKey: cfg.VerifierKey, v: v}}}
	for i, k := range cfg.MoreKeys {
		mv, err := note.NewVerifier(k)
		if err != nil || mv.Name() != v.Name() {
			return fmt.Errorf("client: Config.MoreKeys[%d]: not a verifier key of %q", i, v.Name())
		}
		ks.more = append(ks.more, mv)
	}
	c.keys = ks
	if len(cfg.Keys) > 0 {
		if err := c.setChain(cfg.Keys, false); err != nil {
			return fmt.Errorf("client: Config.Keys: %w", err)
		}
	}
	for i, b := range cfg.Revocations {
		r, err := verify.ParseRevocation(b)
		if err != nil {
			return fmt.Errorf("client: Config.Revocations[%d]: %v", i, err)
		}
		if r.Origin != c.origin {
			return fmt.Errorf("client: Config.Revocations[%d]: a statement for the log %q, not %q", i, r.Origin, c.origin)
		}
		c.revs = append(c.revs, revocation{r: r, msg: checkpoint.Normalize(b)})
	}
	for i, k := range cfg.RevocationKeys {
		rv, err := note.NewVerifier(k)
		if err != nil {
			return fmt.Errorf("client: Config.RevocationKeys[%d]: %v", i, err)
		}
		c.roots = append(c.roots, rv)
	}
	return nil
}

// setChain replaces the chain by keys (a chain kept before, from
// Config.Keys or the state file), which must start with the pinned key
// and hand over in order. With evidence, each handover's checkpoint and
// record, when present, must check: the checkpoint signed by the key
// before, of size Rotation+1, the record naming both keys.
func (c *Client) setChain(keys []TrustedKey, evidence bool) error {
	first := c.keys.chain[0]
	if keys[0].VerifierKey != first.VerifierKey || keys[0].From != 0 {
		return fmt.Errorf("the first key is %s, not the pinned key %s", keys[0].VerifierKey, first.VerifierKey)
	}
	chain := []TrustedKey{first}
	for i, k := range keys[1:] {
		prev := chain[len(chain)-1]
		v, err := note.NewVerifier(k.VerifierKey)
		switch {
		case err != nil || v.Name() != c.origin:
			return fmt.Errorf("key %d: not a verifier key of %q", i+1, c.origin)
		case k.From != k.Rotation+2 || k.From < prev.From+1:
			return fmt.Errorf("key %d: named at entry %d, it cannot sign from size %d", i+1, k.Rotation, k.From)
		}
		if evidence && k.Checkpoint != "" {
			ck, _, err := checkpoint.Verify([]byte(k.Checkpoint), prev.v, c.origin)
			if err != nil || ck.Size != k.Rotation+1 {
				return fmt.Errorf("key %d: the evidence of its rotation is not %s's checkpoint of size %d", i+1, prev.VerifierKey, k.Rotation+1)
			}
			l, err := format.ParseLine([]byte(k.Line))
			r, ok := format.ParseRotation(l.Event)
			if err != nil || !ok || l.Seq != k.Rotation || r.Key != k.VerifierKey || r.Prev != prev.VerifierKey {
				return fmt.Errorf("key %d: the evidence of its rotation is not the rotation record from %s", i+1, prev.VerifierKey)
			}
		}
		k.v = v
		chain = append(chain, k)
	}
	c.keys = &keyState{chain: chain, more: c.keys.more}
	return nil
}

// Keys returns the chain of keys the client trusts now, oldest first:
// Config.VerifierKey, then each key a checked rotation record handed over
// to (Config.MoreKeys are not in it).
func (c *Client) Keys() []TrustedKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]TrustedKey(nil), c.keys.chain...)
}

// revokedAt returns the revocation point of key k (by name and key hash)
// under the statements the client honours with chain ks, and whether it
// is revoked. A statement counts if a Config.RevocationKeys key signed it,
// or the chain's key that k handed over to at or before the point (never
// k itself).
func (c *Client) revokedAt(ks *keyState, k note.Verifier) (uint64, bool) {
	var at uint64
	found := false
	for _, rv := range c.revs {
		v, err := note.NewVerifier(rv.r.Key)
		if err != nil || v.KeyHash() != k.KeyHash() || v.Name() != k.Name() {
			continue
		}
		signers := append([]note.Verifier(nil), c.roots...)
		for i, e := range ks.chain {
			if i > 0 && ks.chain[i-1].v.KeyHash() == k.KeyHash() && e.Rotation+1 <= rv.r.Size {
				signers = append(signers, e.v)
			}
		}
		ok := false
		for _, s := range signers {
			if s.KeyHash() == k.KeyHash() && s.Name() == k.Name() {
				continue
			}
			if _, err := note.Open(rv.msg, note.VerifierList(s)); err == nil {
				ok = true
				break
			}
		}
		if ok && (!found || rv.r.Size < at) {
			at, found = rv.r.Size, true
		}
	}
	return at, found
}

// errUnknownKey says that no key the client trusts signed a checkpoint.
type errUnknownKey struct{ ck checkpoint.Checkpoint }

func (e *errUnknownKey) Error() string {
	return "client: the server's checkpoint does not verify with the pinned key or any key the log was rotated to"
}

// checkKnown verifies a signed checkpoint with the keys trusted now: a
// key of the chain within its turn (From up to the size of the checkpoint
// that covers the record handing over from it), or a Config.MoreKeys key,
// and neither revoked at or below the checkpoint's size. It returns an
// *errUnknownKey when no trusted key signed it, and a *RotationError when
// one did but out of its turn or after its revocation.
func (c *Client) checkKnown(msg []byte) (checkpoint.Checkpoint, error) {
	c.mu.Lock()
	ks := c.keys
	c.mu.Unlock()
	reason := ""
	var got checkpoint.Checkpoint
	try := func(v note.Verifier, from, to uint64, what string) (bool, error) {
		ck, _, err := checkpoint.Verify(msg, v, c.origin)
		if err != nil {
			if errors.Is(err, checkpoint.ErrNoSignature) {
				return false, nil
			}
			return false, fmt.Errorf("client: the server's checkpoint does not verify with the pinned key: %w", err)
		}
		got = ck
		if p, ok := c.revokedAt(ks, v); ok && ck.Size > p {
			reason = fmt.Sprintf("it is signed by %s, revoked for trees of more than %d entries", what, p)
			return false, nil
		}
		if ck.Size < from || ck.Size > to {
			reason = fmt.Sprintf("it is signed by %s, whose turn is trees of %d to %d entries", what, from, to)
			return false, nil
		}
		return true, nil
	}
	for i, k := range ks.chain {
		to := uint64(1<<63 - 1)
		if i+1 < len(ks.chain) {
			to = ks.chain[i+1].Rotation + 1
		}
		if ok, err := try(k.v, k.From, to, k.VerifierKey); ok || err != nil {
			return got, err
		}
	}
	for _, v := range ks.more {
		if ok, err := try(v, 0, 1<<63-1, "a key of Config.MoreKeys"); ok || err != nil {
			return got, err
		}
	}
	if reason != "" {
		c.mu.Lock()
		t := c.trusted.note
		c.mu.Unlock()
		return got, &RotationError{Trusted: t, New: msg, NewSize: got.Size, Keys: ks.chain, Reason: reason}
	}
	ck, err := checkpoint.ParseUnverified(checkpoint.Normalize(msg))
	if err != nil || ck.Origin != c.origin {
		return ck, fmt.Errorf("client: the server's checkpoint does not verify with the pinned key: not a checkpoint of %q", c.origin)
	}
	return ck, &errUnknownKey{ck: ck}
}
