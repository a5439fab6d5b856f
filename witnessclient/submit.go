package witnessclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/policy"
	"github.com/sealog/sealog/witness"
)

// maxConflicts caps the 409 answers followed in one submission.
const maxConflicts = 3

// maxResponse caps a witness's answer.
const maxResponse = 64 << 10

// submit sends the checkpoint to one witness and records the outcome.
func (c *Client) submit(ctx context.Context, ws *witnessState, h sealog.Head, ck checkpoint.Checkpoint) {
	start := time.Now()
	kind, err := c.submitOnce(ctx, ws, h, ck)
	c.m.latency.WithLabelValues(ws.w.Name).Observe(time.Since(start).Seconds())
	if err == nil {
		ws.backoff, ws.retryAt, ws.lastOK = 0, time.Time{}, c.cfg.Clock()
		c.m.lastCosigned.WithLabelValues(ws.w.Name).Set(float64(ws.lastOK.Unix()))
		return
	}
	c.m.errors.WithLabelValues(ws.w.Name, kind).Inc()
	ws.backoff = min(max(2*ws.backoff, time.Second), c.cfg.MaxBackoff)
	ws.retryAt = c.cfg.Clock().Add(ws.backoff)
	c.cfg.Logger.Warn("witness did not cosign", "witness", ws.w.Name, "size", ck.Size, "kind", kind, "err", err, "retry_in", ws.backoff)
}

// submitOnce submits, following up to maxConflicts 409 answers. It
// returns the kind of failure (a metric label) and the error.
func (c *Client) submitOnce(ctx context.Context, ws *witnessState, h sealog.Head, ck checkpoint.Checkpoint) (string, error) {
	old := ws.size
	for range maxConflicts + 1 {
		if old > ck.Size {
			// The witness cosigned a larger tree than the log's head:
			// another writer's head we have not read yet, or a log cut
			// back. Never submit a smaller tree.
			return "ahead", fmt.Errorf("the witness has cosigned %d entries, more than the log's head of %d", old, ck.Size)
		}
		req := &witness.Request{Old: old, Checkpoint: h.Checkpoint.Note}
		if old > 0 && old < ck.Size {
			p, err := c.cfg.Source.ConsistencyProof(ctx, old, ck.Size)
			if err != nil {
				return "proof", fmt.Errorf("consistency proof from %d: %w", old, err)
			}
			req.Proof = p
		}
		status, ctype, body, err := c.post(ctx, ws.w.URL, req.Marshal())
		if err != nil {
			return "unreachable", err
		}
		switch status {
		case http.StatusOK:
			line, err := checkCosignature(ws.w, h.Checkpoint.Note, body)
			if err != nil {
				return "bad_cosignature", err
			}
			ws.size, ws.root, ws.line = ck.Size, ck.Root, line
			return "", nil
		case http.StatusConflict:
			n, err := parseSize(ctype, body)
			if err != nil {
				return "protocol", err
			}
			ws.size = n
			old = n
			continue
		default:
			return "refused_" + strconv.Itoa(status), fmt.Errorf("status %d: %s", status, strings.TrimSpace(string(body)))
		}
	}
	return "conflict", fmt.Errorf("more than %d conflicts in a row", maxConflicts)
}

func (c *Client) post(ctx context.Context, url string, body []byte) (int, string, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(url, "/")+"/add-checkpoint", bytes.NewReader(body))
	if err != nil {
		return 0, "", nil, err
	}
	resp, err := c.cfg.HTTPClient.Do(r)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return 0, "", nil, err
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), b, nil
}

// parseSize reads a 409 answer: text/x.tlog.size, a decimal and a newline.
func parseSize(ctype string, body []byte) (uint64, error) {
	if !strings.HasPrefix(ctype, "text/x.tlog.size") {
		return 0, fmt.Errorf("409 with Content-Type %q, want text/x.tlog.size", ctype)
	}
	s, ok := strings.CutSuffix(string(body), "\n")
	n, err := strconv.ParseUint(s, 10, 64)
	if !ok || err != nil || strconv.FormatUint(n, 10) != s {
		return 0, fmt.Errorf("409 with a malformed size %q", body)
	}
	return n, nil
}

// checkCosignature finds, in a witness's 200 answer, its valid
// cosignature line on the note, ignoring lines by other keys (the spec's
// rule), and returns it.
func checkCosignature(w *policy.Witness, note, body []byte) ([]byte, error) {
	if len(body) == 0 || !bytes.HasSuffix(body, []byte("\n")) {
		return nil, errors.New("the answer is not signature lines")
	}
	n, err := checkpoint.ParseNote(append(bytes.Clone(note), body...))
	if err != nil {
		return nil, fmt.Errorf("the answer: %w", err)
	}
	line := cosigLine(n, w)
	if line == nil {
		return nil, errors.New("the answer holds no valid cosignature by the witness's key")
	}
	return line, nil
}

// cosigLine returns w's valid cosignature line in n, or nil.
func cosigLine(n *checkpoint.Note, w *policy.Witness) []byte {
	for _, s := range n.Sigs {
		if s.Name == w.Verifier.Name() && s.KeyHash == w.Verifier.KeyHash() && w.Verifier.Verify(n.Text, s.Sig) {
			raw := make([]byte, 4, 4+len(s.Sig))
			raw[0], raw[1], raw[2], raw[3] = byte(s.KeyHash>>24), byte(s.KeyHash>>16), byte(s.KeyHash>>8), byte(s.KeyHash)
			return fmt.Appendf(nil, "— %s %s\n", s.Name, b64(append(raw, s.Sig...)))
		}
	}
	return nil
}
