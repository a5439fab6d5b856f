// Package testtsa is a small RFC 3161 time-stamping authority for tests:
// its own CA and TSA certificate, made on the spot, and an HTTP handler
// that answers timestamp queries (RFC 3161 §3.4). Options make it
// misbehave the ways a verifier must catch: a signer certificate whose
// timeStamping usage is not critical, or missing; an answer for another
// message; no nonce; a refusal; an outage.
package testtsa

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/digitorus/timestamp"
)

// Options configure New.
type Options struct {
	// Name is the TSA's common name; "" means "sealog test TSA".
	Name string
	// EKU is how the TSA certificate states its timeStamping usage:
	// "critical" (the default, ""), "noncritical" or "none".
	EKU string
	// Clock gives genTime; nil means time.Now.
	Clock func() time.Time
}

// TSA is a running test authority. Its fields are fixed at New.
type TSA struct {
	CA      *x509.Certificate // the root that issued Cert
	CAPEM   []byte            // CA, PEM-encoded
	Cert    *x509.Certificate // the TSA's signing certificate
	key     crypto.Signer
	clock   func() time.Time
	Queries atomic.Int64 // queries answered (any answer)

	mu        sync.Mutex
	down      bool // guarded by mu: answer 503
	wrongHash bool // guarded by mu: stamp another message
	noNonce   bool // guarded by mu: leave the nonce out
	refuse    bool // guarded by mu: answer "rejection"
	delay     time.Duration
}

var oidEKU = asn1.ObjectIdentifier{2, 5, 29, 37}
var oidTimeStamping = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 8}

// New makes a CA and a TSA certificate under it.
func New(opts Options) (*TSA, error) {
	if opts.Name == "" {
		opts.Name = "sealog test TSA"
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	now := opts.Clock()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: opts.Name + " root"},
		NotBefore: now.Add(-24 * time.Hour), NotAfter: now.Add(10 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		return nil, err
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: opts.Name},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(5 * 365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	switch opts.EKU {
	case "", "critical", "noncritical":
		v, _ := asn1.Marshal([]asn1.ObjectIdentifier{oidTimeStamping})
		tmpl.ExtraExtensions = []pkix.Extension{{Id: oidEKU, Critical: opts.EKU != "noncritical", Value: v}}
	case "none":
	default:
		return nil, fmt.Errorf("testtsa: EKU %q (want critical, noncritical or none)", opts.EKU)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		return nil, err
	}
	cert, _ := x509.ParseCertificate(der)
	return &TSA{CA: ca, CAPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), Cert: cert, key: key, clock: opts.Clock}, nil
}

// SetDown makes the TSA answer 503 (true) or work again (false).
func (t *TSA) SetDown(down bool) { t.mu.Lock(); t.down = down; t.mu.Unlock() }

// SetWrongHash makes the TSA stamp another message than the one asked.
func (t *TSA) SetWrongHash(v bool) { t.mu.Lock(); t.wrongHash = v; t.mu.Unlock() }

// SetNoNonce makes the TSA leave the nonce out of its tokens.
func (t *TSA) SetNoNonce(v bool) { t.mu.Lock(); t.noNonce = v; t.mu.Unlock() }

// SetRefuse makes the TSA answer with the status "rejection".
func (t *TSA) SetRefuse(v bool) { t.mu.Lock(); t.refuse = v; t.mu.Unlock() }

// SetDelay makes the TSA wait d before answering.
func (t *TSA) SetDelay(d time.Duration) { t.mu.Lock(); t.delay = d; t.mu.Unlock() }

// Stamp answers one DER TimeStampReq with a DER TimeStampResp.
func (t *TSA) Stamp(req []byte) ([]byte, error) {
	t.mu.Lock()
	wrong, noNonce, refuse := t.wrongHash, t.noNonce, t.refuse
	t.mu.Unlock()
	if refuse {
		return timestamp.CreateErrorResponse(timestamp.Rejection, timestamp.BadRequest)
	}
	r, err := timestamp.ParseRequest(req)
	if err != nil {
		return nil, err
	}
	ts := timestamp.Timestamp{
		HashAlgorithm: r.HashAlgorithm, HashedMessage: r.HashedMessage, Time: t.clock().UTC().Truncate(time.Second),
		Nonce: r.Nonce, Policy: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}, AddTSACertificate: r.Certificates,
		Accuracy: time.Second,
	}
	if wrong {
		h := sha256.Sum256(append([]byte("another message"), r.HashedMessage...))
		ts.HashedMessage = h[:]
	}
	if noNonce {
		ts.Nonce = nil
	}
	return ts.CreateResponseWithOpts(t.Cert, t.key, crypto.SHA256)
}

// ServeHTTP answers POSTed application/timestamp-query bodies.
func (t *TSA) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t.Queries.Add(1)
	t.mu.Lock()
	down, delay := t.down, t.delay
	t.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if down {
		http.Error(w, "down for the test", http.StatusServiceUnavailable)
		return
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/timestamp-query" {
		http.Error(w, "want a POST of application/timestamp-query", http.StatusBadRequest)
		return
	}
	req, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	if err != nil {
		return
	}
	resp, err := t.Stamp(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/timestamp-reply")
	w.Write(resp)
}
