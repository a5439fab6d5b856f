package client

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"strconv"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/format"
)

// These methods give a Client the read side of a *sealog.Log that
// package bundle builds evidence bundles from (bundle.Source), so that
// `sealog export --url` works against a server as against a directory.

// Origin returns the origin of the pinned verifier key: the log's.
func (c *Client) Origin() string { return c.origin }

// VerifierKey returns the log's current verifier key as far as the
// client followed it: the pinned key, or the last key a checked rotation
// record handed over to, once that key signed a checkpoint the client
// saw (sealog.Log.VerifierKey names it from the rotation on).
func (c *Client) VerifierKey() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.keys.chain[len(c.keys.chain)-1].VerifierKey
}

// CheckpointAt returns the server's signed checkpoint for its first size
// entries (the end of a batch), or its latest for size 0, with the
// signature checked against the pinned key and the consistency with the
// trusted checkpoint checked as Checkpoint does.
func (c *Client) CheckpointAt(ctx context.Context, size uint64) (sealog.Checkpoint, error) {
	if size == 0 {
		ck, note, err := c.Checkpoint(ctx)
		if err != nil {
			return sealog.Checkpoint{}, err
		}
		return sealog.Checkpoint{Origin: ck.Origin, Size: ck.Size, Root: ck.Root, Note: note}, nil
	}
	b, _, err := c.do(ctx, request{method: "GET", path: "/v1/entries/" + strconv.FormatUint(size-1, 10),
		query: map[string][]string{"size": {strconv.FormatUint(size, 10)}}})
	if err != nil {
		return sealog.Checkpoint{}, err
	}
	var r entryJSON
	if err := json.Unmarshal(b, &r); err != nil || r.Inclusion == nil || r.Inclusion.Checkpoint == "" {
		return sealog.Checkpoint{}, fmt.Errorf("client: the checkpoint of size %d: malformed answer", size)
	}
	note := []byte(r.Inclusion.Checkpoint)
	ck, err := c.openCheckpoint(ctx, note)
	if err != nil {
		return sealog.Checkpoint{}, err
	}
	if ck.Size != size {
		return sealog.Checkpoint{}, fmt.Errorf("client: asked for the checkpoint of size %d, got one of size %d", size, ck.Size)
	}
	if err := c.advance(ctx, note, ck, nil, false); err != nil {
		return sealog.Checkpoint{}, err
	}
	return sealog.Checkpoint{Origin: ck.Origin, Size: ck.Size, Root: ck.Root, Note: note}, nil
}

// inclusionJSON is GET /v1/proof/inclusion's body.
type inclusionJSON struct {
	Seq        uint64           `json:"seq"`
	Size       uint64           `json:"size"`
	LeafHash   tlog.Hash        `json:"leaf_hash"`
	Proof      tlog.RecordProof `json:"proof"`
	Checkpoint string           `json:"checkpoint"`
}

// InclusionProof returns the proof that entry seq is in the server's tree
// of size entries, checked against that size's signed checkpoint when the
// server has one (the end of a batch) for the leaf hash it names.
// Callers prove a leaf of their own with tlog.CheckRecord.
func (c *Client) InclusionProof(ctx context.Context, seq, size uint64) (tlog.RecordProof, error) {
	b, _, err := c.do(ctx, request{method: "GET", path: "/v1/proof/inclusion",
		query: map[string][]string{"seq": {strconv.FormatUint(seq, 10)}, "size": {strconv.FormatUint(size, 10)}}})
	if err != nil {
		return nil, err
	}
	var r inclusionJSON
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("client: the inclusion proof of entry %d: malformed answer", seq)
	}
	if r.Seq != seq || r.Size != size {
		return nil, fmt.Errorf("client: asked for the proof of entry %d in %d entries, got entry %d in %d", seq, size, r.Seq, r.Size)
	}
	if r.Checkpoint != "" {
		ck, err := c.openCheckpoint(ctx, []byte(r.Checkpoint))
		if err != nil {
			return nil, err
		}
		if ck.Size != size {
			return nil, fmt.Errorf("client: the proof of entry %d came with a checkpoint of size %d, not %d", seq, ck.Size, size)
		}
		if err := tlog.CheckRecord(r.Proof, int64(size), ck.Root, int64(seq), r.LeafHash); err != nil {
			return nil, fmt.Errorf("client: the proof of entry %d does not verify against the signed checkpoint of size %d: %v", seq, size, err)
		}
	}
	return r.Proof, nil
}

// pageJSON is GET /v1/entries's body, as far as Entries reads it.
type pageJSON struct {
	Entries []struct {
		Seq  uint64 `json:"seq"`
		Line string `json:"line"`
	} `json:"entries"`
	Next *uint64 `json:"next"`
}

// Entries returns the entries [from, to) as the server lists them, each
// decoded from its stored line (never from the server's decoded members),
// in pages of 1,000. Unlike Entry it proves none of them: a caller that
// relies on one proves it (Entry, or InclusionProof against a checkpoint),
// as bundle.Build does for every entry it puts in a bundle.
func (c *Client) Entries(ctx context.Context, from, to uint64) iter.Seq2[sealog.Entry, error] {
	return func(yield func(sealog.Entry, error) bool) {
		for from < to {
			b, _, err := c.do(ctx, request{method: "GET", path: "/v1/entries",
				query: map[string][]string{"from": {strconv.FormatUint(from, 10)}, "limit": {"1000"}}})
			if err != nil {
				yield(sealog.Entry{}, err)
				return
			}
			var p pageJSON
			if err := json.Unmarshal(b, &p); err != nil {
				yield(sealog.Entry{}, fmt.Errorf("client: the entries from %d: malformed answer", from))
				return
			}
			for _, pe := range p.Entries {
				if pe.Seq >= to {
					return
				}
				e, err := decodeLine(pe.Seq, []byte(pe.Line))
				if err == nil && pe.Seq != from {
					err = fmt.Errorf("client: asked for entry %d, the server listed entry %d", from, pe.Seq)
				}
				if !yield(e, err) || err != nil {
					return
				}
				from++
			}
			switch {
			case p.Next == nil:
				return
			case *p.Next != from:
				yield(sealog.Entry{}, fmt.Errorf("client: the server's next page starts at %d, not %d", *p.Next, from))
				return
			}
		}
	}
}

// decodeLine decodes entry seq from its stored line.
func decodeLine(seq uint64, line []byte) (sealog.Entry, error) {
	l, err := format.ParseLine(line)
	if err != nil {
		return sealog.Entry{}, fmt.Errorf("client: entry %d: its line: %w", seq, err)
	}
	if l.Seq != seq {
		return sealog.Entry{}, fmt.Errorf("client: the server lists entry %d with the line of entry %d", seq, l.Seq)
	}
	h := l.Header()
	e := sealog.Entry{Seq: seq, Time: time.Unix(0, l.Time).UTC(), Erased: l.Erased, LeafHash: h.LeafHash(), BodyHash: h.BodyHash, Prev: l.Prev, Line: line}
	if !l.Erased {
		ev, err := format.ParseEvent(l.Event)
		if err != nil {
			return sealog.Entry{}, fmt.Errorf("client: entry %d: %w", seq, err)
		}
		e.Kind, e.Actor, e.Resource, e.Payload = ev.Kind, ev.Actor, ev.Resource, ev.Payload
	}
	return e, nil
}
