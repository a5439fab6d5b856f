package verify

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/sealog/sealog/checkpoint"
)

// trustedKeys parses the trusted keys (Options.Key, then Options.Keys; the
// log's own key when none is given) and the candidates for the chain's
// first key: the trusted ones, then the log's own key, which starts the
// chain when the auditor trusts only a later key of it.
func (v *verification) trustedKeys() error {
	v.trusted = map[string]bool{}
	add := func(vkey string, trusted bool) error {
		vkey = strings.TrimSpace(vkey)
		k, err := note.NewVerifier(vkey)
		if err != nil {
			return err
		}
		if trusted {
			v.trusted[keyID(k)] = true
		}
		for _, c := range v.candidates {
			if keyID(c.v) == keyID(k) {
				return nil
			}
		}
		v.candidates = append(v.candidates, candidate{vkey: vkey, v: k})
		return nil
	}
	if err := add(v.rep.Key, true); err != nil {
		return fmt.Errorf("malformed verifier key: %v", err)
	}
	for i, k := range v.opts.Keys {
		if err := add(k, true); err != nil {
			return &InputError{What: fmt.Sprintf("trusted key %d", i+1), Err: fmt.Errorf("malformed verifier key: %v", err)}
		}
	}
	if v.logKey != "" && !v.noLogKey && !v.rep.KeyFromLog {
		if lv, err := note.NewVerifier(v.logKey); err == nil && lv.Name() == v.origin {
			_ = add(v.logKey, false)
		}
	}
	return nil
}

// trustedCheckpoint verifies a checkpoint from outside the log with the
// trusted keys: nil for the first that signed it, else the first key's
// error (ErrNoSignature when none signed it).
func (v *verification) trustedCheckpoint(b []byte) (checkpoint.Checkpoint, error) {
	c, _, err := checkpoint.Verify(b, v.v, v.v.Name())
	if !errors.Is(err, checkpoint.ErrNoSignature) {
		return c, err
	}
	for _, k := range v.candidates {
		if v.trusted[keyID(k.v)] && keyID(k.v) != keyID(v.v) {
			if c2, _, err2 := checkpoint.Verify(b, k.v, v.v.Name()); !errors.Is(err2, checkpoint.ErrNoSignature) {
				return c2, err2
			}
		}
	}
	return c, err
}

// afterChain checks what needed the chain of keys: that it holds a
// trusted key, the checkpoint file and the trusted checkpoints signed by a
// later key of the chain.
func (v *verification) afterChain() error {
	chain := v.ch.sigs.chain
	if len(v.trusted) > 0 && !v.rep.KeyFromLog && !chain.hasTrusted(v.trusted) && !v.noLogKey {
		return errUntrustedChain
	}
	v.rep.Keys = chain.ranges(v.ch.next, v.trusted)
	if v.ckFile != nil && len(chain.epochs) > 1 {
		if c, err := checkpoint.ParseUnverified(v.ckFile); err == nil {
			for i, k := range v.cks {
				if k.source == "checkpoint file" {
					v.cks[i] = openCheckpoint(v.ckFile, chain.at(c.Size).v, v.origin, "checkpoint file")
				}
			}
		}
	}
	for _, k := range v.cks {
		if k.pending == 0 {
			continue
		}
		b := v.pendingCks[k.pending-1]
		e := chain.at(k.c.Size)
		c, _, err := checkpoint.Verify(b, e.v, v.v.Name())
		if err != nil || e.from > 1 && !e.checked && !v.trusted[keyID(e.v)] {
			return &InputError{What: fmt.Sprintf("trusted checkpoint %d", k.pending), Err: fmt.Errorf("%w: not by a key you trust, nor by the key the log's chain of keys authorises at size %d (%s)", checkpoint.ErrNoSignature, k.c.Size, e.vkey)}
		}
		k.c, k.err = c, nil
	}
	return nil
}
