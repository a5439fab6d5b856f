// Package tstoken reads and checks RFC 3161 timestamp responses over
// sealog checkpoints (docs/FORMAT.md §12). It does no I/O: package tsa
// asks a time-stamping authority for them over HTTP, the Log stores them,
// and the verifier checks them with this package.
//
// A sealog timestamp covers a checkpoint's text — the three lines
// "<origin>\n<size>\n<base64 root>\n", what the log signs — so a valid one
// proves that entries 0 … size-1, which the root commits to, existed
// before the token's time.
//
//	st, err := tstoken.Verify(tsr, checkpoint.Checkpoint{Origin: o, Size: n, Root: root}.Text(), roots)
//	// st.Time: the entries existed before it; st.TSA: who says so
package tstoken

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/digitorus/pkcs7"
	"github.com/digitorus/timestamp"
)

// Stamp is what a timestamp response says.
type Stamp struct {
	Time   time.Time // the TSA's genTime: the message existed before it
	TSA    string    // the subject of the certificate that signed the token, or "" if the token carries none
	Serial *big.Int  // the token's serial number, unique per TSA
	Nonce  *big.Int  // the nonce of the request; nil if the token has none
	// Accuracy is the TSA's stated accuracy of Time (0: not stated).
	Accuracy time.Duration
	// Hash is the hash of the message imprint.
	Hash crypto.Hash
}

// Errors callers branch on.
var (
	// ErrMalformed: the bytes are not a granted RFC 3161 timestamp response.
	ErrMalformed = errors.New("not a granted RFC 3161 timestamp response")
	// ErrImprint: the token is over another message (another checkpoint).
	ErrImprint = errors.New("the token's message imprint is not the checkpoint's hash")
	// ErrUntrusted: the token's signature, certificate chain or the
	// signer's key usage does not check out against the roots given.
	ErrUntrusted = errors.New("the token is not signed by a time-stamping authority the roots trust")
	// ErrNoNonce: the token carries no nonce (sealog always asks with one).
	ErrNoNonce = errors.New("the token carries no nonce")
)

// Parse reads a DER TimeStampResp and checks that its token covers
// message: its imprint is the SHA-256, SHA-384 or SHA-512 of message and
// it carries a nonce. It checks the token's CMS signature only against
// the certificate the token carries, if any — not that a trusted
// authority made it: Verify does that.
func Parse(tsr, message []byte) (*Stamp, error) {
	ts, err := timestamp.ParseResponse(tsr)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if err := checkImprint(ts, message); err != nil {
		return nil, err
	}
	if ts.Nonce == nil {
		return nil, ErrNoNonce
	}
	return stamp(ts), nil
}

// Verify is Parse and, in addition, checks that the token's CMS signature
// verifies, that its signer's certificate chains to one of roots (at the
// token's time: a TSA certificate expired since still vouches for what
// it signed while valid) and has the timeStamping extended key usage,
// marked critical and alone (RFC 3161 §2.3), and that any intermediate
// allows time stamping. It does not check revocation (CRL, OCSP).
func Verify(tsr, message []byte, roots []*x509.Certificate) (*Stamp, error) {
	ts, err := timestamp.ParseResponse(tsr)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if err := checkImprint(ts, message); err != nil {
		return nil, err
	}
	if ts.Nonce == nil {
		return nil, ErrNoNonce
	}
	if len(roots) == 0 {
		return nil, fmt.Errorf("%w: no root certificates given", ErrUntrusted)
	}
	if err := checkSigner(ts, roots); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUntrusted, err)
	}
	return stamp(ts), nil
}

// oidEKU is the extended key usage extension (RFC 5280 §4.2.1.12).
var oidEKU = asn1.ObjectIdentifier{2, 5, 29, 37}

// checkSigner checks the token's CMS signature and its signer, as
// github.com/sigstore/timestamp-authority's pkg/verification does (that
// module's requirements would add some 150 modules to go.sum and raise
// versions the server's OpenAPI code uses, for these few lines).
func checkSigner(ts *timestamp.Timestamp, roots []*x509.Certificate) error {
	p7, err := pkcs7.Parse(ts.RawToken)
	if err != nil {
		return fmt.Errorf("token: %v", err)
	}
	if len(p7.Certificates) == 0 {
		return errors.New("the token carries no certificate (sealog asks for it)")
	}
	if err := p7.Verify(); err != nil {
		return fmt.Errorf("token signature: %v", err)
	}
	signer := p7.GetOnlySigner()
	if signer == nil {
		return errors.New("the token has no single signer")
	}
	pool, inter := x509.NewCertPool(), x509.NewCertPool()
	for _, r := range roots {
		pool.AddCert(r)
	}
	for _, c := range p7.Certificates {
		if !c.Equal(signer) {
			inter.AddCert(c)
		}
	}
	_, err = signer.Verify(x509.VerifyOptions{
		Roots: pool, Intermediates: inter, CurrentTime: ts.Time,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping},
	})
	if err != nil {
		return fmt.Errorf("signer certificate %q: %v", signer.Subject, err)
	}
	critical := false
	for _, e := range signer.Extensions {
		if e.Id.Equal(oidEKU) {
			critical = e.Critical
		}
	}
	if !critical || len(signer.ExtKeyUsage) != 1 || signer.ExtKeyUsage[0] != x509.ExtKeyUsageTimeStamping || len(signer.UnknownExtKeyUsage) > 0 {
		return fmt.Errorf("signer certificate %q: its extended key usage must be timeStamping alone, marked critical (RFC 3161 §2.3)", signer.Subject)
	}
	return nil
}

// Nonce returns the nonce of a timestamp response without checking
// anything else (nil if it has none or does not parse).
func Nonce(tsr []byte) *big.Int {
	ts, err := timestamp.ParseResponse(tsr)
	if err != nil {
		return nil
	}
	return ts.Nonce
}

func checkImprint(ts *timestamp.Timestamp, message []byte) error {
	switch ts.HashAlgorithm {
	case crypto.SHA256, crypto.SHA384, crypto.SHA512:
	default:
		return fmt.Errorf("%w: imprint hash %v is not SHA-256, SHA-384 or SHA-512", ErrMalformed, ts.HashAlgorithm)
	}
	h := ts.HashAlgorithm.New()
	h.Write(message)
	if !bytes.Equal(h.Sum(nil), ts.HashedMessage) {
		return ErrImprint
	}
	return nil
}

func stamp(ts *timestamp.Timestamp) *Stamp {
	st := &Stamp{Time: ts.Time.UTC(), Serial: ts.SerialNumber, Nonce: ts.Nonce, Accuracy: ts.Accuracy, Hash: ts.HashAlgorithm}
	if len(ts.Certificates) > 0 {
		st.TSA = ts.Certificates[0].Subject.String()
	}
	return st
}

// ParseRoots reads PEM certificates (a CA bundle): at least one, and
// nothing but CERTIFICATE blocks, for Verify's roots.
func ParseRoots(pemBytes []byte) ([]*x509.Certificate, error) {
	var roots []*x509.Certificate
	rest := bytes.TrimSpace(pemBytes)
	for len(rest) > 0 {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, errors.New("not PEM: want one or more CERTIFICATE blocks")
		}
		if b.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("a PEM block of type %q, want CERTIFICATE", b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %v", len(roots)+1, err)
		}
		roots = append(roots, c)
		rest = bytes.TrimSpace(rest)
	}
	if len(roots) == 0 {
		return nil, errors.New("no certificate")
	}
	return roots, nil
}
