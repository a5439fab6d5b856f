package client

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/format"
)

// Append records one event and returns its receipt, checked (see
// AppendBatch).
func (c *Client) Append(ctx context.Context, ev sealog.Event) (sealog.Receipt, error) {
	rs, err := c.AppendBatch(ctx, []sealog.Event{ev})
	if err != nil {
		return sealog.Receipt{}, err
	}
	return rs[0], nil
}

// AppendBatch records events atomically (all or none, consecutively)
// and returns one receipt per event. The request carries a new
// Idempotency-Key and is retried with it, so a retry never appends twice.
// Before it returns, every receipt is checked: its checkpoint is signed by
// the pinned key or a key the log was rotated to (followed first if need
// be; a *RotationError if no valid rotation hands over to it), its inclusion proof ties its leaf hash to the
// checkpoint's root, its stored line hashes to that leaf and holds exactly
// the event sent, and the checkpoint is consistent with the last one the
// client trusted (a *ConsistencyError otherwise).
func (c *Client) AppendBatch(ctx context.Context, evs []sealog.Event) ([]sealog.Receipt, error) {
	if len(evs) == 0 {
		return nil, nil
	}
	canon, body, err := encodeEvents(evs)
	if err != nil {
		return nil, err
	}
	key, err := c.newKey()
	if err != nil {
		return nil, err
	}
	return c.send(ctx, key, canon, body)
}

// send posts a body of canonical events with an idempotency key and
// checks the receipts.
func (c *Client) send(ctx context.Context, key string, canon [][]byte, body []byte) ([]sealog.Receipt, error) {
	h := http.Header{"Idempotency-Key": {key}}
	c.mu.Lock()
	if c.trusted.note != nil {
		h.Set("Sealog-Consistency-From", strconv.FormatUint(c.trusted.ck.Size, 10))
	}
	c.mu.Unlock()
	b, _, err := c.do(ctx, request{method: "POST", path: "/v1/entries", body: body, header: h})
	if err != nil {
		return nil, err
	}
	var resp struct {
		Receipts    []receiptJSON    `json:"receipts"`
		Consistency *consistencyJSON `json:"consistency"`
	}
	if err := json.Unmarshal(b, &resp); err != nil {
		return nil, fmt.Errorf("client: malformed append response: %w", err)
	}
	return c.checkReceipts(ctx, resp.Receipts, resp.Consistency, canon)
}

// receiptJSON is a receipt as the server sends it.
type receiptJSON struct {
	Seq        uint64           `json:"seq"`
	Time       time.Time        `json:"time"`
	LeafHash   tlog.Hash        `json:"leaf_hash"`
	Checkpoint string           `json:"checkpoint"`
	Proof      tlog.RecordProof `json:"proof"`
	Line       string           `json:"line"`
}

// checkReceipts checks the server's receipts for the events canon.
func (c *Client) checkReceipts(ctx context.Context, rs []receiptJSON, cons *consistencyJSON, canon [][]byte) ([]sealog.Receipt, error) {
	if len(rs) != len(canon) {
		return nil, fmt.Errorf("client: sent %d events, got %d receipts", len(canon), len(rs))
	}
	ckNote := rs[0].Checkpoint
	ck, err := c.openCheckpoint(ctx, []byte(ckNote))
	if err != nil {
		return nil, err
	}
	out := make([]sealog.Receipt, len(rs))
	for i, r := range rs {
		if err := checkReceipt(r, ck, ckNote, rs[0].Seq+uint64(i), canon[i]); err != nil {
			return nil, fmt.Errorf("client: receipt %d (entry %d): %w", i, r.Seq, err)
		}
		out[i] = sealog.Receipt{Seq: r.Seq, Time: r.Time, LeafHash: r.LeafHash, Checkpoint: r.Checkpoint, Proof: r.Proof}
	}
	if err := c.advance(ctx, []byte(ckNote), ck, cons, false); err != nil {
		return nil, err
	}
	return out, nil
}

// checkReceipt checks one receipt against its batch's verified
// checkpoint ck: the seq expected, the line's canonical form, seq, time,
// event and leaf hash, and the inclusion proof.
func checkReceipt(r receiptJSON, ck checkpoint.Checkpoint, ckNote string, seq uint64, canon []byte) error {
	switch {
	case r.Seq != seq:
		return fmt.Errorf("seq %d, want %d (a batch's entries are consecutive)", r.Seq, seq)
	case r.Checkpoint != ckNote:
		return fmt.Errorf("its checkpoint differs from its batch's")
	case r.Seq >= ck.Size:
		return fmt.Errorf("its checkpoint covers only %d entries", ck.Size)
	}
	l, err := format.ParseLine([]byte(r.Line))
	if err != nil {
		return fmt.Errorf("its line: %w", err)
	}
	hdr := l.Header()
	switch {
	case l.Seq != r.Seq:
		return fmt.Errorf("its line is for entry %d", l.Seq)
	case l.Erased || !bytes.Equal(l.Event, canon):
		return fmt.Errorf("its line does not hold the event sent")
	case hdr.LeafHash() != r.LeafHash:
		return fmt.Errorf("its line does not hash to its leaf hash")
	case !r.Time.Equal(time.Unix(0, l.Time)):
		return fmt.Errorf("its time differs from its line's")
	}
	if err := tlog.CheckRecord(r.Proof, int64(ck.Size), ck.Root, int64(r.Seq), r.LeafHash); err != nil {
		return fmt.Errorf("its inclusion proof does not verify: %v", err)
	}
	return nil
}

// encodeEvents returns each event's canonical encoding (what the log
// commits to, and so what its stored line must hold) and the request
// body: the array of them.
func encodeEvents(evs []sealog.Event) ([][]byte, []byte, error) {
	canon := make([][]byte, len(evs))
	body := []byte{'['}
	for i, ev := range evs {
		p, err := encodePayload(ev.Payload)
		if err == nil {
			canon[i], err = format.AppendEvent(nil, ev.Kind, ev.Actor, ev.Resource, p)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("client: event %d: %w", i, err)
		}
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, canon[i]...)
	}
	return canon, append(body, ']'), nil
}

// encodePayload returns a payload's compact JSON object form, as the log
// encodes it.
func encodePayload(p any) ([]byte, error) {
	switch v := p.(type) {
	case nil:
		return []byte("{}"), nil
	case json.RawMessage:
		return format.CompactPayload(nil, v)
	case []byte:
		return format.CompactPayload(nil, v)
	case string:
		return nil, fmt.Errorf("payload is a Go string; pass a map, a struct or a json.RawMessage")
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	return format.CompactPayload(nil, bytes.TrimRight(b.Bytes(), "\n"))
}

// newKey returns a fresh idempotency key: 16 random bytes, hex.
func (c *Client) newKey() (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(c.cfg.Rand, b[:]); err != nil {
		return "", fmt.Errorf("client: making an idempotency key: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
