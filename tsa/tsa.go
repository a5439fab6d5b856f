// Package tsa asks an RFC 3161 time-stamping authority, over HTTP
// (RFC 3161 §3.4), for timestamp tokens over sealog checkpoints. A
// *Client is a sealog.Timestamper: give it to sealog.Options.Timestamper
// and the log obtains a token after its batches (docs/TIME.md).
//
//	c, err := tsa.New(tsa.Options{URL: "https://tsa.example.com/tsr"})
//	l, err := sealog.Open(dir, sealog.Options{Key: key, Timestamper: c})
//
// The root package stays free of HTTP; this package is where it lives.
package tsa

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"time"

	"github.com/digitorus/timestamp"

	"github.com/sealog/sealog/tstoken"
)

// Options configure New. URL is required.
type Options struct {
	// URL is the TSA's HTTP(S) endpoint.
	URL string
	// HTTPClient sends the queries; nil means a client with a 30 s timeout.
	HTTPClient *http.Client
	// Roots, if set, are the CAs the TSA must chain to: each token is
	// then verified fully (tstoken.Verify) before it is stored, so that a
	// misconfigured TSA shows up at once rather than at the next audit.
	// nil checks the imprint and the nonce only.
	Roots []*x509.Certificate
}

// Client asks one TSA. It is safe for concurrent use.
type Client struct {
	url   string
	http  *http.Client
	roots []*x509.Certificate
}

// maxResponse bounds a TSA's answer.
const maxResponse = 64 << 10

// New returns a client for opts.URL.
func New(opts Options) (*Client, error) {
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("tsa: URL %q is not an http or https URL", opts.URL)
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return &Client{url: opts.URL, http: hc, roots: opts.Roots}, nil
}

// Timestamp asks for a token over message (its SHA-256, with a random
// 128-bit nonce and the TSA's certificate requested) and returns the DER
// TimeStampResp once it has checked that the response is granted, covers
// message and carries the nonce sent (and, with Options.Roots, that it
// verifies against them).
func (c *Client) Timestamp(ctx context.Context, message []byte) ([]byte, error) {
	nonce, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, err
	}
	req, err := timestamp.CreateRequest(bytes.NewReader(message), &timestamp.RequestOptions{Hash: crypto.SHA256, Certificates: true, Nonce: nonce})
	if err != nil {
		return nil, fmt.Errorf("tsa: building the request: %w", err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(req))
	if err != nil {
		return nil, fmt.Errorf("tsa: %w", err)
	}
	hr.Header.Set("Content-Type", "application/timestamp-query")
	hr.Header.Set("Accept", "application/timestamp-reply")
	resp, err := c.http.Do(hr)
	if err != nil {
		return nil, fmt.Errorf("tsa: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, fmt.Errorf("tsa: reading the answer of %s: %w", c.url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("tsa: %s answered %s", c.url, resp.Status)
	}
	if len(body) > maxResponse {
		return nil, fmt.Errorf("tsa: %s answered more than %d bytes", c.url, maxResponse)
	}
	var st *tstoken.Stamp
	if c.roots != nil {
		st, err = tstoken.Verify(body, message, c.roots)
	} else {
		st, err = tstoken.Parse(body, message)
	}
	if err != nil {
		return nil, fmt.Errorf("tsa: the answer of %s: %w", c.url, err)
	}
	if st.Nonce.Cmp(nonce) != 0 {
		return nil, fmt.Errorf("tsa: the answer of %s: %w", c.url, ErrNonce)
	}
	return body, nil
}

// ErrNonce: a TSA answered with a token for another request (its nonce is
// not the one sent): a replayed or mixed-up answer.
var ErrNonce = errors.New("the token's nonce is not the one sent")

// ParseRoots reads PEM certificates (a CA bundle): at least one, and
// nothing but CERTIFICATE blocks.
func ParseRoots(pemBytes []byte) ([]*x509.Certificate, error) {
	return tstoken.ParseRoots(pemBytes)
}
