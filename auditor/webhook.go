package auditor

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/verify"
)

// SignatureHeader is the webhook request's header that carries
// "sha256=" and the hex HMAC-SHA256 of the body under the shared secret.
const SignatureHeader = "Sealog-Signature"

// PayloadVersion is the version member of a webhook payload.
const PayloadVersion = "sealog-audit/v1"

// Webhook is where the auditor posts its results (docs/AUDIT.md,
// "Webhook").
type Webhook struct {
	// URL receives a POST of the JSON Payload. Required.
	URL string
	// Secret is the HMAC-SHA256 key of the signature header. Required;
	// never logged.
	Secret []byte
	// OnSuccess posts valid audits too, not only failures.
	OnSuccess bool
	// MaxAttempts caps the tries of one delivery; 0 means 6.
	MaxAttempts int
	// Backoff is the wait before the first retry, doubled at each, up to
	// MaxBackoff; 0 means one second (and one minute).
	Backoff, MaxBackoff time.Duration
	// HTTPClient sends the requests; nil means one with a 30-second
	// timeout.
	HTTPClient *http.Client
}

// Payload is the body of a webhook request.
type Payload struct {
	Version string `json:"version"` // PayloadVersion
	Log     string `json:"log"`
	Origin  string `json:"origin"`
	Verdict string `json:"verdict"`
	Valid   bool   `json:"valid"`
	Reason  string `json:"reason"`
	// FirstInvalidSeq is the first entry shown bad or missing, or null.
	FirstInvalidSeq *uint64 `json:"first_invalid_seq"`
	// TrustedCheckpoint is the checkpoint trusted before the audit and
	// Checkpoint the log's now (signed notes), or null.
	TrustedCheckpoint *string `json:"trusted_checkpoint"`
	Checkpoint        *string `json:"checkpoint"`
	// ConsistencyProof is, for a fork, the log's proof from the trusted
	// size to its checkpoint's (base64 hashes), which does not verify;
	// ConsistencyProofError says how. Null otherwise.
	ConsistencyProof      tlog.TreeProof `json:"consistency_proof"`
	ConsistencyProofError string         `json:"consistency_proof_error,omitempty"`
	// VerifiedSize is the size of the checkpoint trusted after the audit.
	VerifiedSize   uint64 `json:"verified_size"`
	EntriesChecked uint64 `json:"entries_checked"`
	// Problems are the verifier's first problems (at most 20).
	Problems []verify.Problem `json:"problems"`
	Started  time.Time        `json:"started"`
	Finished time.Time        `json:"finished"`
}

// NewPayload is the payload for r.
func NewPayload(r *Result) Payload {
	p := Payload{Version: PayloadVersion, Log: r.Log, Origin: r.Origin, Verdict: r.Verdict, Valid: r.Valid, Reason: r.Reason,
		FirstInvalidSeq: r.FirstInvalid, ConsistencyProof: r.Proof, ConsistencyProofError: r.ProofErr,
		VerifiedSize: r.Size, EntriesChecked: r.Entries, Problems: []verify.Problem{}, Started: r.Started.UTC(), Finished: r.Finished.UTC()}
	if r.Old != nil {
		s := string(r.Old)
		p.TrustedCheckpoint = &s
	}
	if r.New != nil {
		s := string(r.New)
		p.Checkpoint = &s
	}
	if r.Report != nil {
		p.Problems = r.Report.Problems[:min(len(r.Report.Problems), 20)]
	}
	return p
}

// Sign returns the signature header's value for body: "sha256=" and the
// hex HMAC-SHA256 of body under secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// CheckSignature reports whether header is the signature of body under
// secret, in constant time: what a receiver does before believing a
// payload.
func CheckSignature(secret, body []byte, header string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(header))
}

func (w *Webhook) check() error {
	u, err := url.Parse(w.URL)
	switch {
	case w.URL == "":
		return errors.New("auditor: Webhook.URL is required")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("auditor: webhook URL %q is not an http or https URL", w.URL)
	case len(w.Secret) == 0:
		return errors.New("auditor: Webhook.Secret is required (the receiver checks the HMAC signature with it)")
	}
	return nil
}

// deliver posts r's payload, retrying network errors, 408, 429 and 5xx
// answers with exponential backoff; another answer ends it.
func (w *Webhook) deliver(ctx context.Context, r *Result, lg *slog.Logger) error {
	body, err := json.Marshal(NewPayload(r))
	if err != nil {
		return err
	}
	sig := Sign(w.Secret, body)
	hc := w.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	attempts, wait, maxWait := w.MaxAttempts, w.Backoff, w.MaxBackoff
	if attempts <= 0 {
		attempts = 6
	}
	if wait <= 0 {
		wait = time.Second
	}
	if maxWait <= 0 {
		maxWait = time.Minute
	}
	var last error
	for i := 1; ; i++ {
		retry, err := w.post(ctx, hc, body, sig)
		if err == nil {
			return nil
		}
		last = err
		if !retry || i >= attempts || ctx.Err() != nil {
			break
		}
		lg.Warn("webhook: retrying", "log", r.Log, "attempt", i, "wait", wait, "err", err)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return fmt.Errorf("webhook: %w (last: %v)", ctx.Err(), last)
		}
		wait = min(2*wait, maxWait)
	}
	return fmt.Errorf("webhook: not delivered: %w", last)
}

// post sends one request; retry says whether another may succeed.
func (w *Webhook) post(ctx context.Context, hc *http.Client, body []byte, sig string) (retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, "POST", w.URL, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "sealog-audit")
	req.Header.Set(SignatureHeader, sig)
	resp, err := hc.Do(req)
	if err != nil {
		// Without the URL: a webhook URL often holds a token of its own.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return true, fmt.Errorf("posting: %w", err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch c := resp.StatusCode; {
	case c/100 == 2:
		return false, nil
	case c == 408 || c == 429 || c/100 == 5:
		return true, fmt.Errorf("the receiver answered %s", resp.Status)
	default:
		return false, fmt.Errorf("the receiver answered %s", resp.Status)
	}
}
