package client

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/tstoken"
	"github.com/sealog/sealog/verify"
)

// Checkpoint fetches the server's latest checkpoint (GET /checkpoint),
// checks its signature with the pinned key (or a key the log was rotated
// to, following the rotation records first) and its consistency with the
// trusted checkpoint, and trusts it. A latest checkpoint smaller than the
// trusted one is a *ConsistencyError with Rollback set. (Against
// several servers that read from lagging replicas, expect that error from
// a replica behind the others.)
func (c *Client) Checkpoint(ctx context.Context) (checkpoint.Checkpoint, []byte, error) {
	b, _, err := c.do(ctx, request{method: "GET", path: "/checkpoint"})
	if err != nil {
		return checkpoint.Checkpoint{}, nil, err
	}
	ck, err := c.openCheckpoint(ctx, b)
	if err != nil {
		return checkpoint.Checkpoint{}, nil, err
	}
	if err := c.advance(ctx, b, ck, nil, true); err != nil {
		return checkpoint.Checkpoint{}, nil, err
	}
	return ck, b, nil
}

// entryJSON is GET /v1/entries/{seq}'s body, as far as the client reads
// it: the stored line and the inclusion proof, not the decoded members.
type entryJSON struct {
	Entry struct {
		Line string `json:"line"`
	} `json:"entry"`
	Inclusion *struct {
		Seq        uint64           `json:"seq"`
		Size       uint64           `json:"size"`
		LeafHash   tlog.Hash        `json:"leaf_hash"`
		Proof      tlog.RecordProof `json:"proof"`
		Checkpoint string           `json:"checkpoint"`
	} `json:"inclusion"`
}

// Entry fetches entry seq with its inclusion proof in the server's latest
// checkpoint and checks both: the checkpoint's signature and consistency
// with the trusted one, the stored line's leaf hash, and the proof. The
// entry is decoded from the checked line, never from the server's
// decoded members.
func (c *Client) Entry(ctx context.Context, seq uint64) (sealog.Entry, error) {
	b, _, err := c.do(ctx, request{method: "GET", path: "/v1/entries/" + strconv.FormatUint(seq, 10), query: map[string][]string{"proof": {"true"}}})
	if err != nil {
		return sealog.Entry{}, err
	}
	var r entryJSON
	if err := json.Unmarshal(b, &r); err != nil || r.Inclusion == nil {
		return sealog.Entry{}, fmt.Errorf("client: entry %d: malformed answer", seq)
	}
	ck, err := c.openCheckpoint(ctx, []byte(r.Inclusion.Checkpoint))
	if err != nil {
		return sealog.Entry{}, err
	}
	l, err := format.ParseLine([]byte(r.Entry.Line))
	if err != nil {
		return sealog.Entry{}, fmt.Errorf("client: entry %d: its line: %w", seq, err)
	}
	h := l.Header()
	leaf := h.LeafHash()
	switch {
	case l.Seq != seq:
		return sealog.Entry{}, fmt.Errorf("client: asked for entry %d, got entry %d", seq, l.Seq)
	case ck.Size != r.Inclusion.Size || seq >= ck.Size:
		return sealog.Entry{}, fmt.Errorf("client: entry %d: the proof's size %d is not its checkpoint's (%d)", seq, r.Inclusion.Size, ck.Size)
	}
	if err := tlog.CheckRecord(r.Inclusion.Proof, int64(ck.Size), ck.Root, int64(seq), leaf); err != nil {
		return sealog.Entry{}, fmt.Errorf("client: entry %d: its line is not in the signed tree: %v", seq, err)
	}
	if err := c.advance(ctx, []byte(r.Inclusion.Checkpoint), ck, nil, false); err != nil {
		return sealog.Entry{}, err
	}
	e := sealog.Entry{Seq: seq, Time: time.Unix(0, l.Time).UTC(), Erased: l.Erased, LeafHash: leaf, BodyHash: h.BodyHash, Prev: l.Prev, Line: []byte(r.Entry.Line)}
	if !l.Erased {
		ev, err := format.ParseEvent(l.Event)
		if err != nil {
			return sealog.Entry{}, fmt.Errorf("client: entry %d: %w", seq, err)
		}
		e.Kind, e.Actor, e.Resource, e.Payload = ev.Kind, ev.Actor, ev.Resource, ev.Payload
	}
	return e, nil
}

// entryReceiptJSON is GET /v1/entries/{seq}?timestamp=true's body, as far as
// Receipt reads it.
type entryReceiptJSON struct {
	entryJSON
	Timestamp *verify.ReceiptTimestamp `json:"timestamp"`
}

// Receipt fetches entry seq's receipt, as an append returns it, proven in
// the signed checkpoint of size (0: the server's latest), with the RFC
// 3161 timestamp that covers it when the log holds one (GET
// /v1/entries/{seq}?timestamp=true; docs/TIME.md). An append's receipt
// has no timestamp yet: ask for it again here once the log's TSA stamped
// a later checkpoint. It checks what Entry checks, and that the
// timestamp, if any, is bound to the receipt's checkpoint (the later
// checkpoint's signature, the consistency proof, the token's imprint);
// who signed the token is for the receipt's holder to check against the
// TSA roots it trusts (verify.VerifyReceiptTimestamp). Receipt.Timestamp
// is nil while no token covers the entry.
func (c *Client) Receipt(ctx context.Context, seq, size uint64) (sealog.Receipt, error) {
	q := map[string][]string{"timestamp": {"true"}}
	if size > 0 {
		q["size"] = []string{strconv.FormatUint(size, 10)}
	}
	b, _, err := c.do(ctx, request{method: "GET", path: "/v1/entries/" + strconv.FormatUint(seq, 10), query: q})
	if err != nil {
		return sealog.Receipt{}, err
	}
	var r entryReceiptJSON
	if err := json.Unmarshal(b, &r); err != nil || r.Inclusion == nil {
		return sealog.Receipt{}, fmt.Errorf("client: receipt for entry %d: malformed answer", seq)
	}
	ck, err := c.openCheckpoint(ctx, []byte(r.Inclusion.Checkpoint))
	if err != nil {
		return sealog.Receipt{}, err
	}
	l, err := format.ParseLine([]byte(r.Entry.Line))
	if err != nil {
		return sealog.Receipt{}, fmt.Errorf("client: entry %d: its line: %w", seq, err)
	}
	h := l.Header()
	rc := sealog.Receipt{Seq: seq, Time: time.Unix(0, l.Time).UTC(), LeafHash: h.LeafHash(), Checkpoint: r.Inclusion.Checkpoint, Proof: r.Inclusion.Proof, Timestamp: r.Timestamp}
	switch {
	case l.Seq != seq:
		return sealog.Receipt{}, fmt.Errorf("client: asked for entry %d, got entry %d", seq, l.Seq)
	case ck.Size != r.Inclusion.Size || size > 0 && ck.Size != size:
		return sealog.Receipt{}, fmt.Errorf("client: entry %d: the proof's size %d is not its checkpoint's (%d)", seq, r.Inclusion.Size, ck.Size)
	}
	if err := tlog.CheckRecord(rc.Proof, int64(ck.Size), ck.Root, int64(seq), rc.LeafHash); err != nil {
		return sealog.Receipt{}, fmt.Errorf("client: entry %d: its line is not in the signed tree: %v", seq, err)
	}
	if t := rc.Timestamp; t != nil {
		covered := ck
		if t.Checkpoint != "" {
			later, err := c.openCheckpoint(ctx, []byte(t.Checkpoint))
			if err != nil {
				return sealog.Receipt{}, fmt.Errorf("client: receipt for entry %d: the timestamp's checkpoint: %w", seq, err)
			}
			if later.Size < ck.Size {
				return sealog.Receipt{}, fmt.Errorf("client: receipt for entry %d: the timestamp's checkpoint has %d entries, fewer than the receipt's %d", seq, later.Size, ck.Size)
			}
			if err := tlog.CheckTree(t.Consistency, int64(later.Size), later.Root, int64(ck.Size), ck.Root); err != nil {
				return sealog.Receipt{}, fmt.Errorf("client: receipt for entry %d: the timestamp's consistency proof does not verify: %v", seq, err)
			}
			covered = later
		}
		msg := checkpoint.Checkpoint{Origin: covered.Origin, Size: covered.Size, Root: covered.Root}.Text()
		if _, err := (tstoken.Checker{}).CheckTimestamp(t.TSR, msg); err != nil {
			return sealog.Receipt{}, fmt.Errorf("client: receipt for entry %d: the timestamp of size %d: %w", seq, covered.Size, err)
		}
	}
	if err := c.advance(ctx, []byte(r.Inclusion.Checkpoint), ck, nil, false); err != nil {
		return sealog.Receipt{}, err
	}
	return rc, nil
}
