package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"

	"golang.org/x/mod/sumdb/tlog"
)

// linesPage is GET /v1/entries's body, as far as Lines reads it.
type linesPage struct {
	Entries []struct {
		Seq  uint64 `json:"seq"`
		Line string `json:"line"`
	} `json:"entries"`
	Next *uint64 `json:"next"`
}

// Lines calls fn with the stored line of every entry from seq from to
// to-1, in order, a page at a time (GET /v1/entries). The lines are what
// the server says it stores, checked for nothing but their seq: they are
// for a verifier (package verify), which treats them as untrusted. A
// server that skips, repeats or stops short of to is an error. It stops at
// the first error fn returns, and returns it.
func (c *Client) Lines(ctx context.Context, from, to uint64, fn func(seq uint64, line []byte) error) error {
	for from < to {
		limit := min(to-from, 1000)
		q := url.Values{"from": {strconv.FormatUint(from, 10)}, "limit": {strconv.FormatUint(limit, 10)}}
		b, _, err := c.do(ctx, request{method: "GET", path: "/v1/entries", query: q})
		if err != nil {
			return err
		}
		var p linesPage
		if err := json.Unmarshal(b, &p); err != nil {
			return fmt.Errorf("client: entries from %d: malformed answer: %v", from, err)
		}
		if len(p.Entries) == 0 {
			return fmt.Errorf("client: entries from %d: the server has none, but its checkpoint covers %d", from, to)
		}
		for _, e := range p.Entries {
			if from >= to {
				break
			}
			if e.Seq != from {
				return fmt.Errorf("client: asked for entry %d, got entry %d", from, e.Seq)
			}
			if err := fn(e.Seq, []byte(e.Line)); err != nil {
				return err
			}
			from++
		}
	}
	return nil
}

// ConsistencyProof fetches the server's consistency proof between the
// trees of size from and to (GET /v1/proof/consistency), unchecked: the
// caller checks it (tlog.CheckTree) against roots it trusts, or keeps it
// as evidence when it does not verify.
func (c *Client) ConsistencyProof(ctx context.Context, from, to uint64) (tlog.TreeProof, error) {
	return c.fetchConsistency(ctx, from, to)
}
