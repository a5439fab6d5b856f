package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strconv"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/internal/durable"
)

// trusted is the last checkpoint the client verified and found
// consistent with every one before it.
type trusted struct {
	note []byte
	ck   checkpoint.Checkpoint
}

// ConsistencyError is the evidence that the server's log was rolled back
// or forked: two checkpoints, both signed by the pinned key, that cannot
// both be states of one append-only log, and the proof the server gave
// (nil if it could give none).
type ConsistencyError struct {
	// Old is the checkpoint the client trusted; New the one that
	// contradicts it. Both are signed notes, verified with the pinned key.
	Old, New []byte
	// OldSize and NewSize are their tree sizes.
	OldSize, NewSize uint64
	// Proof is the consistency proof the server offered between the two
	// sizes (smaller to larger), if any.
	Proof tlog.TreeProof
	// Rollback says the server's latest checkpoint is smaller than Old:
	// the log lost entries it had signed.
	Rollback bool
	// Reason says what failed.
	Reason string
}

func (e *ConsistencyError) Error() string {
	what := "forked"
	if e.Rollback {
		what = "rolled back"
	}
	return fmt.Sprintf("client: the log was %s: checkpoint of size %d is inconsistent with the trusted checkpoint of size %d: %s",
		what, e.NewSize, e.OldSize, e.Reason)
}

// Trusted returns the last checkpoint the client verified (a signed
// note), nil before the first.
func (c *Client) Trusted() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.trusted.note...)
}

// advance checks that ck (its note already verified) and the trusted
// checkpoint are states of one log, with given (a proof between their
// sizes, smaller to larger) or one it fetches, and then trusts the larger
// of the two. latest says ck is the server's current head, so that a ck
// smaller than the trusted one is a rollback.
func (c *Client) advance(ctx context.Context, msg []byte, ck checkpoint.Checkpoint, given *consistencyJSON, latest bool) error {
	for range 4 {
		c.mu.Lock()
		t := c.trusted
		c.mu.Unlock()
		if t.note == nil {
			if c.trust(t, msg, ck) {
				return nil
			}
			continue
		}
		cerr := &ConsistencyError{Old: t.note, New: msg, OldSize: t.ck.Size, NewSize: ck.Size}
		if ck.Size == t.ck.Size {
			if ck.Root != t.ck.Root {
				cerr.Reason = "two checkpoints of one size with different root hashes"
				return cerr
			}
			return nil
		}
		oldC, newC := t.ck, ck
		if ck.Size < t.ck.Size {
			oldC, newC = ck, t.ck
		}
		var proof tlog.TreeProof
		if given != nil && given.Old == oldC.Size && given.New == newC.Size {
			proof = given.Proof
		} else {
			p, err := c.fetchConsistency(ctx, oldC.Size, newC.Size)
			if err != nil {
				var ae *APIError
				if errors.As(err, &ae) && ae.Status == 400 && newC.Size == t.ck.Size {
					cerr.Rollback = true
					cerr.Reason = "the server cannot prove that its log still holds the trusted checkpoint's entries: " + ae.Message
					return cerr
				}
				return err
			}
			proof = p
		}
		cerr.Proof = proof
		if err := tlog.CheckTree(proof, int64(newC.Size), newC.Root, int64(oldC.Size), oldC.Root); err != nil {
			cerr.Reason = "the consistency proof between them does not verify"
			return cerr
		}
		if ck.Size < t.ck.Size {
			if latest {
				cerr.Rollback = true
				cerr.Reason = "the server's latest checkpoint is smaller than one it signed before"
				return cerr
			}
			return nil // an older batch's receipt, in the trusted tree
		}
		if c.trust(t, msg, ck) {
			return nil
		}
	}
	return errors.New("client: the trusted checkpoint kept moving; giving up")
}

// trust replaces the trusted checkpoint old by ck, unless another call
// did first; it reports whether it did.
func (c *Client) trust(old trusted, msg []byte, ck checkpoint.Checkpoint) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if string(c.trusted.note) != string(old.note) {
		return false
	}
	c.trusted = trusted{note: append([]byte(nil), msg...), ck: ck}
	c.dirty = true
	if err := c.saveLocked(false); err != nil {
		c.log.Warn("saving the trusted checkpoint failed", "file", c.cfg.StateFile, "err", err)
	}
	return true
}

// consistencyJSON is a consistency proof as the server sends it.
type consistencyJSON struct {
	Old   uint64         `json:"old_size"`
	New   uint64         `json:"new_size"`
	Proof tlog.TreeProof `json:"proof"`
}

func (c *Client) fetchConsistency(ctx context.Context, from, to uint64) (tlog.TreeProof, error) {
	q := url.Values{"from": {strconv.FormatUint(from, 10)}, "to": {strconv.FormatUint(to, 10)}}
	b, _, err := c.do(ctx, request{method: "GET", path: "/v1/proof/consistency", query: q})
	if err != nil {
		return nil, err
	}
	var p consistencyJSON
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("client: malformed consistency proof: %w", err)
	}
	if p.Old != from || p.New != to {
		return nil, fmt.Errorf("client: asked for a consistency proof from %d to %d, got one from %d to %d", from, to, p.Old, p.New)
	}
	return p.Proof, nil
}

// stateFile is the JSON of Config.StateFile.
type stateFile struct {
	Checkpoint string `json:"checkpoint"`
	// Keys is the chain of keys followed (absent until a rotation was).
	Keys []TrustedKey `json:"keys,omitempty"`
}

func (c *Client) loadState() error {
	b, err := os.ReadFile(c.cfg.StateFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("client: state file: %w", err)
	}
	var s stateFile
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("client: state file %s: %w", c.cfg.StateFile, err)
	}
	if len(s.Keys) > len(c.keys.chain) {
		if err := c.setChain(s.Keys, true); err != nil {
			return fmt.Errorf("client: state file %s: its chain of keys: %w", c.cfg.StateFile, err)
		}
	}
	ck, err := c.checkKnown([]byte(s.Checkpoint))
	if err != nil {
		return fmt.Errorf("client: state file %s: %w", c.cfg.StateFile, err)
	}
	c.trusted = trusted{note: []byte(s.Checkpoint), ck: ck}
	return nil
}

// saveLocked writes the trusted checkpoint to the state file, durably,
// if it changed and a second passed since the last write (or now).
func (c *Client) saveLocked(now bool) error {
	if c.cfg.StateFile == "" || !c.dirty || (!now && time.Since(c.savedAt) < time.Second) {
		return nil
	}
	sf := stateFile{Checkpoint: string(c.trusted.note)}
	if len(c.keys.chain) > 1 {
		sf.Keys = c.keys.chain
	}
	b, _ := json.Marshal(sf)
	if err := durable.WriteFile(c.cfg.StateFile, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("client: state file: %w", err)
	}
	c.dirty, c.savedAt = false, time.Now()
	return nil
}
