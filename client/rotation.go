package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/format"
)

// openCheckpoint verifies a signed checkpoint with the keys the client
// trusts, following the log's rotations first if it is signed by none of
// them.
func (c *Client) openCheckpoint(ctx context.Context, msg []byte) (checkpoint.Checkpoint, error) {
	ck, err := c.checkKnown(msg)
	var unk *errUnknownKey
	if !errors.As(err, &unk) {
		return ck, err
	}
	c.followMu.Lock()
	defer c.followMu.Unlock()
	for {
		// Another call may have followed meanwhile; each pass adds a key.
		ck, err := c.checkKnown(msg)
		if !errors.As(err, &unk) {
			return ck, err
		}
		if err := c.followOne(ctx, msg, unk.ck); err != nil {
			return ck, err
		}
	}
}

// followOne finds the rotation record that hands over from the chain's
// last key before the tree of target's size, checks it, and adds its key
// to the chain: the record must be in the log, alone in its batch, whose
// checkpoint (of size R+1) is signed by the key it hands over from and
// consistent with the trusted checkpoint, and it must name that key as
// the previous one.
func (c *Client) followOne(ctx context.Context, msg []byte, target checkpoint.Checkpoint) error {
	err := c.followOnce(ctx, msg, target)
	var ae *APIError
	if errors.As(err, &ae) && (ae.Status == 401 || ae.Status == 403) {
		return fmt.Errorf("client: the checkpoint of size %d is signed by a key the client does not trust yet, and following the log's rotation needs the read role (Config.ReadToken): %w", target.Size, err)
	}
	return err
}

func (c *Client) followOnce(ctx context.Context, msg []byte, target checkpoint.Checkpoint) error {
	c.mu.Lock()
	ks, t := c.keys, c.trusted
	c.mu.Unlock()
	cur := ks.chain[len(ks.chain)-1]
	refuse := &RotationError{Trusted: t.note, New: msg, NewSize: target.Size, Keys: ks.chain}
	// A record at R hands over from cur if cur signed its checkpoint
	// (R+1 >= cur.From and >= any size cur signed that the client
	// trusts) and the new key can sign target (R+2 <= target.Size). The
	// trusted checkpoint bounds R only if cur signed it: one signed by a
	// key of Config.MoreKeys may be past cur's turn (the log rotated to
	// that key, and the client had no need to follow).
	lo := max(cur.From, 1) - 1
	if _, _, err := checkpoint.Verify(t.note, cur.v, c.origin); len(t.note) > 0 && err == nil {
		lo = max(cur.From, t.ck.Size, 1) - 1
	}
	if target.Size < lo+2 {
		refuse.Reason = fmt.Sprintf("it is signed by an unknown key, and no rotation from %s can be at an entry below %d, which a tree of %d entries would need", cur.VerifierKey, lo, target.Size)
		return refuse
	}
	seq, found, err := c.findRotation(ctx, lo, target.Size-1)
	if err != nil {
		return fmt.Errorf("client: looking for the log's rotation records: %w", err)
	}
	if !found {
		refuse.Reason = fmt.Sprintf("it is signed by an unknown key, and the log holds no rotation record from %s between entries %d and %d", cur.VerifierKey, lo, target.Size-2)
		return refuse
	}
	refuse.RecordSeq = seq
	b, _, err := c.do(ctx, request{method: "GET", path: "/v1/entries/" + strconv.FormatUint(seq, 10),
		query: url.Values{"size": {strconv.FormatUint(seq+1, 10)}}})
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == 400 {
		refuse.Reason = fmt.Sprintf("the rotation record at entry %d does not end its batch (no signed checkpoint has %d entries): %s", seq, seq+1, ae.Message)
		return refuse
	}
	if err != nil {
		return err
	}
	var r entryJSON
	if err := json.Unmarshal(b, &r); err != nil || r.Inclusion == nil {
		return fmt.Errorf("client: entry %d: malformed answer", seq)
	}
	refuse.Record, refuse.RecordCheckpoint = r.Entry.Line, []byte(r.Inclusion.Checkpoint)
	l, err := format.ParseLine([]byte(r.Entry.Line))
	if err != nil {
		refuse.Reason = fmt.Sprintf("the rotation record at entry %d: its line: %v", seq, err)
		return refuse
	}
	rot, isRot := format.ParseRotation(l.Event)
	h := l.Header()
	leaf := h.LeafHash()
	nv, nerr := note.NewVerifier(rot.Key)
	switch {
	case l.Seq != seq:
		refuse.Reason = fmt.Sprintf("asked for entry %d, got entry %d", seq, l.Seq)
	case l.Erased || !isRot:
		refuse.Reason = fmt.Sprintf("entry %d is not a rotation record", seq)
	case rot.Prev != cur.VerifierKey:
		refuse.Reason = fmt.Sprintf("the rotation record at entry %d hands over from %s, not from %s, the key in effect", seq, rot.Prev, cur.VerifierKey)
	case nerr != nil || nv.Name() != c.origin:
		refuse.Reason = fmt.Sprintf("the rotation record at entry %d names a malformed key or one of another origin", seq)
	}
	if refuse.Reason != "" {
		return refuse
	}
	for _, k := range ks.chain {
		if k.v.KeyHash() == nv.KeyHash() {
			refuse.Reason = fmt.Sprintf("the rotation record at entry %d names %s, a key the chain has used", seq, rot.Key)
			return refuse
		}
	}
	ck, _, err := checkpoint.Verify(refuse.RecordCheckpoint, cur.v, c.origin)
	if err != nil {
		refuse.Reason = fmt.Sprintf("the checkpoint covering the rotation record at entry %d is not signed by %s, the key it hands over from: %v", seq, cur.VerifierKey, err)
		return refuse
	}
	if p, revoked := c.revokedAt(ks, cur.v); revoked && ck.Size > p {
		refuse.Reason = fmt.Sprintf("the rotation record at entry %d is signed by %s after its revocation at %d entries", seq, cur.VerifierKey, p)
		return refuse
	}
	if ck.Size != seq+1 || r.Inclusion.Size != ck.Size {
		refuse.Reason = fmt.Sprintf("the checkpoint given for the rotation record at entry %d has %d entries, not %d", seq, ck.Size, seq+1)
		return refuse
	}
	if err := tlog.CheckRecord(r.Inclusion.Proof, int64(ck.Size), ck.Root, int64(seq), leaf); err != nil {
		refuse.Reason = fmt.Sprintf("the rotation record at entry %d is not in the tree its checkpoint signs: %v", seq, err)
		return refuse
	}
	// The old key's checkpoint over the record must be a state of the
	// log the client trusts (a *ConsistencyError otherwise).
	if err := c.advance(ctx, refuse.RecordCheckpoint, ck, nil, false); err != nil {
		return err
	}
	k := TrustedKey{VerifierKey: rot.Key, From: seq + 2, Rotation: seq, Checkpoint: string(refuse.RecordCheckpoint), Line: r.Entry.Line, v: nv}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keys != ks {
		return nil // changed meanwhile (not by a follower: they hold followMu); look again
	}
	c.keys = &keyState{chain: append(append([]TrustedKey(nil), ks.chain...), k), more: ks.more}
	c.dirty = true
	if err := c.saveLocked(true); err != nil {
		c.log.Warn("saving the trusted keys failed", "file", c.cfg.StateFile, "err", err)
	}
	c.log.Info("following the log's key rotation", "seq", seq, "key", rot.Key)
	return nil
}

// findRotation returns the seq of the first rotation record in [lo, hi),
// from the server's listing of entries of kind sealog.rotate (a hint:
// followOne checks the record itself).
func (c *Client) findRotation(ctx context.Context, lo, hi uint64) (uint64, bool, error) {
	pruned := false
	for from := lo; from < hi; {
		q := url.Values{"from": {strconv.FormatUint(from, 10)}, "kind": {format.RotateKind}, "limit": {"1"}}
		b, _, err := c.do(ctx, request{method: "GET", path: "/v1/entries", query: q})
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == 404 && !pruned {
			// The log was pruned (docs/FORMAT.md §13): its rotation
			// records are kept, so go on from its first entry kept.
			pruned = true
			if from, err = c.firstKept(ctx, from, hi); err != nil {
				return 0, false, err
			}
			continue
		}
		if err != nil {
			return 0, false, err
		}
		var page struct {
			Entries []struct {
				Seq uint64 `json:"seq"`
			} `json:"entries"`
			Next *uint64 `json:"next"`
		}
		if err := json.Unmarshal(b, &page); err != nil {
			return 0, false, fmt.Errorf("malformed page of entries: %w", err)
		}
		for _, e := range page.Entries {
			if e.Seq >= from && e.Seq < hi {
				return e.Seq, true, nil
			}
		}
		if page.Next == nil || *page.Next <= from {
			break
		}
		from = *page.Next
	}
	return 0, false, nil
}

// firstKept returns the first entry in (lo, hi) that the server still
// holds, entry lo being pruned (hi if none is held), by bisection: a pruned
// log lost a prefix of its entries, and the server answers 404 for each.
func (c *Client) firstKept(ctx context.Context, lo, hi uint64) (uint64, error) {
	for lo+1 < hi {
		mid := lo + (hi-lo)/2
		_, _, err := c.do(ctx, request{method: "GET", path: "/v1/entries/" + strconv.FormatUint(mid, 10)})
		var ae *APIError
		switch {
		case err == nil:
			hi = mid
		case errors.As(err, &ae) && ae.Status == 404:
			lo = mid
		default:
			return 0, err
		}
	}
	return hi, nil
}
