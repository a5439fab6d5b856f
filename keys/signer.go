package keys

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/note"
)

// FromSigner wraps any crypto.Signer of an Ed25519 key — a KMS, an HSM
// (PKCS #11), an ssh-agent (package keys/sshagent) — as the signing key
// of the log with the given origin, so that the private key never sits in
// a file on the log's machine. The signer is asked to sign each batch's
// checkpoint text as it is (crypto.Hash(0), pure Ed25519), and every
// signature it returns is checked against its public key before use: a
// device that returns a wrong signature fails the batch instead of
// poisoning the log.
func FromSigner(origin string, s crypto.Signer) (*Key, error) {
	if err := CheckOrigin(origin); err != nil {
		return nil, err
	}
	pub, ok := s.Public().(ed25519.PublicKey)
	if !ok || len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("the signer's key is a %T, not an Ed25519 public key", s.Public())
	}
	vkey, err := note.NewEd25519VerifierKey(origin, pub)
	if err != nil {
		return nil, err
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, err
	}
	return &Key{signer: &cryptoSigner{name: origin, hash: v.KeyHash(), s: s, pub: pub}, verifier: v, vkey: vkey}, nil
}

// cryptoSigner is a note.Signer over a crypto.Signer.
type cryptoSigner struct {
	name string
	hash uint32
	s    crypto.Signer
	pub  ed25519.PublicKey
}

func (c *cryptoSigner) Name() string    { return c.name }
func (c *cryptoSigner) KeyHash() uint32 { return c.hash }

func (c *cryptoSigner) Sign(msg []byte) ([]byte, error) {
	sig, err := c.s.Sign(rand.Reader, msg, crypto.Hash(0))
	if err != nil {
		return nil, err
	}
	if !ed25519.Verify(c.pub, msg, sig) {
		return nil, errors.New("the external signer returned a signature that does not verify with its public key")
	}
	return sig, nil
}
