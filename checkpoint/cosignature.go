package checkpoint

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// C2SP tlog-cosignature (https://c2sp.org/tlog-cosignature), the Ed25519
// cosignature/v1 type: a witness's timestamped statement that a
// checkpoint is the largest consistent tree it has seen for the log.
//
// A cosignature line is "— <name> base64(key ID || timestamp || sig)":
// the key ID is SHA-256(name || "\n" || 0x04 || public key)[:4], the
// timestamp 8 bytes big-endian (POSIX seconds), and sig an Ed25519
// signature of
//
//	cosignature/v1
//	time <timestamp>
//	<the checkpoint's note text>

// CosignatureAlg is the signature type byte of Ed25519 cosignature/v1 keys.
const CosignatureAlg = 0x04

// cosigLen is the length of a cosignature after the key ID.
const cosigLen = 8 + ed25519.SignatureSize

// CosignatureKeyHash is the key ID of an Ed25519 cosignature/v1 key.
func CosignatureKeyHash(name string, pub ed25519.PublicKey) uint32 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{'\n', CosignatureAlg})
	h.Write(pub)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// CosignedMessage is what a cosignature/v1 signs for a checkpoint text at
// POSIX time t.
func CosignedMessage(text []byte, t uint64) []byte {
	b := make([]byte, 0, len(text)+40)
	b = append(b, "cosignature/v1\ntime "...)
	b = strconv.AppendUint(b, t, 10)
	b = append(b, '\n')
	return append(b, text...)
}

// Cosigner makes Ed25519 cosignature/v1 cosignatures: a witness's key.
type Cosigner struct {
	name string
	priv ed25519.PrivateKey
	hash uint32
}

// NewCosigner returns the cosigner called name (a schema-less URL, the
// signed-note key name rules) with key priv.
func NewCosigner(name string, priv ed25519.PrivateKey) (*Cosigner, error) {
	if !validName(name) || strings.ContainsFunc(name, isControl) {
		return nil, fmt.Errorf("checkpoint: witness name %q: must be non-empty without spaces or '+' (like example.com/witness)", name)
	}
	if len(priv) != ed25519.PrivateKeySize {
		return nil, errors.New("checkpoint: not an Ed25519 private key")
	}
	return &Cosigner{name: name, priv: priv, hash: CosignatureKeyHash(name, priv.Public().(ed25519.PublicKey))}, nil
}

// Name is the cosigner's name, as its signature lines carry it.
func (c *Cosigner) Name() string { return c.name }

// KeyHash is the cosigner's key ID.
func (c *Cosigner) KeyHash() uint32 { return c.hash }

// VerifierKey is the cosigner's vkey: "<name>+<key ID hex>+base64(0x04 || public key)".
func (c *Cosigner) VerifierKey() string {
	return cosignerVKey(c.name, c.priv.Public().(ed25519.PublicKey))
}

// CosignatureVerifierKey is the vkey of the cosignature/v1 key pub called
// name: "<name>+<key ID hex>+base64(0x04 || pub)".
func CosignatureVerifierKey(name string, pub ed25519.PublicKey) string {
	return cosignerVKey(name, pub)
}

func cosignerVKey(name string, pub ed25519.PublicKey) string {
	return fmt.Sprintf("%s+%08x+%s", name, CosignatureKeyHash(name, pub), base64.StdEncoding.EncodeToString(append([]byte{CosignatureAlg}, pub...)))
}

// Cosign returns the signature line ("— name base64\n") of a cosignature
// of the checkpoint note text made at t (whole seconds; the timestamp of
// a witness's cosignature is never zero).
func (c *Cosigner) Cosign(text []byte, t time.Time) []byte {
	ts := uint64(max(t.Unix(), 1))
	sig := ed25519.Sign(c.priv, CosignedMessage(text, ts))
	raw := make([]byte, 4+cosigLen)
	binary.BigEndian.PutUint32(raw, c.hash)
	binary.BigEndian.PutUint64(raw[4:], ts)
	copy(raw[12:], sig)
	line := make([]byte, 0, len(c.name)+120)
	line = append(line, "— "...)
	line = append(line, c.name...)
	line = append(line, ' ')
	line = base64.StdEncoding.AppendEncode(line, raw)
	return append(line, '\n')
}

// CosignatureVerifier checks one witness's cosignature/v1 signatures.
type CosignatureVerifier struct {
	name string
	pub  ed25519.PublicKey
	hash uint32
}

// ParseCosignatureVerifier parses a witness vkey with signature type 0x04
// (c2sp.org/signed-note verifier keys): its key ID must be the
// cosignature/v1 one for its name and key.
func ParseCosignatureVerifier(vkey string) (*CosignatureVerifier, error) {
	name, rest, ok1 := strings.Cut(vkey, "+")
	hexID, b64, ok2 := strings.Cut(rest, "+")
	if !ok1 || !ok2 || !validName(name) || len(hexID) != 8 {
		return nil, fmt.Errorf("witness key %q: not a verifier key (name+hex key ID+base64 key)", vkey)
	}
	id, err := strconv.ParseUint(hexID, 16, 32)
	if err != nil {
		return nil, fmt.Errorf("witness key %q: malformed key ID", vkey)
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil || len(raw) != 1+ed25519.PublicKeySize || raw[0] != CosignatureAlg {
		return nil, fmt.Errorf("witness key %q: not an Ed25519 cosignature/v1 key (type 0x04, 32 bytes)", vkey)
	}
	pub := ed25519.PublicKey(raw[1:])
	if h := CosignatureKeyHash(name, pub); uint32(id) != h {
		return nil, fmt.Errorf("witness key %q: key ID %s does not match the key (want %08x)", vkey, hexID, h)
	}
	return &CosignatureVerifier{name: name, pub: pub, hash: uint32(id)}, nil
}

// Name is the witness's name.
func (v *CosignatureVerifier) Name() string { return v.name }

// KeyHash is the witness's key ID.
func (v *CosignatureVerifier) KeyHash() uint32 { return v.hash }

// PublicKey is the witness's Ed25519 public key.
func (v *CosignatureVerifier) PublicKey() ed25519.PublicKey { return v.pub }

// String is the witness's vkey.
func (v *CosignatureVerifier) String() string { return cosignerVKey(v.name, v.pub) }

// Verify implements note.Verifier: sig is timestamp || Ed25519 signature
// (after the key ID), msg the checkpoint text.
func (v *CosignatureVerifier) Verify(msg, sig []byte) bool {
	if len(sig) != cosigLen {
		return false
	}
	ts := binary.BigEndian.Uint64(sig)
	if ts == 0 || ts > 1<<63-1 {
		return false
	}
	return ed25519.Verify(v.pub, CosignedMessage(msg, ts), sig[8:])
}

// Check verifies a cosignature signature line's payload (after the key
// ID) on text and returns its time.
func (v *CosignatureVerifier) Check(text, sig []byte) (time.Time, bool) {
	if !v.Verify(text, sig) {
		return time.Time{}, false
	}
	return time.Unix(int64(binary.BigEndian.Uint64(sig)), 0).UTC(), true
}

// GenerateCosigner makes a new witness key called name. skey is the
// secret key, "PRIVATE+KEY+<name>+<key ID>+base64(0x04 || seed)" (sealog's
// form, modelled on the note package's), vkey the verifier key.
func GenerateCosigner(rnd io.Reader, name string) (skey, vkey string, err error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	seed := make([]byte, ed25519.SeedSize)
	if _, err := io.ReadFull(rnd, seed); err != nil {
		return "", "", err
	}
	c, err := NewCosigner(name, ed25519.NewKeyFromSeed(seed))
	if err != nil {
		return "", "", err
	}
	skey = fmt.Sprintf("PRIVATE+KEY+%s+%08x+%s", name, c.hash, base64.StdEncoding.EncodeToString(append([]byte{CosignatureAlg}, seed...)))
	return skey, c.VerifierKey(), nil
}

// ParseCosigner parses a witness secret key as GenerateCosigner makes it.
func ParseCosigner(skey string) (*Cosigner, error) {
	skey = strings.TrimSpace(skey)
	rest, ok := strings.CutPrefix(skey, "PRIVATE+KEY+")
	parts := strings.SplitN(rest, "+", 3)
	if !ok || len(parts) != 3 {
		return nil, errors.New("not a witness secret key (it should start with PRIVATE+KEY+)")
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(parts[2])
	if err != nil || len(raw) != 1+ed25519.SeedSize || raw[0] != CosignatureAlg {
		return nil, errors.New("malformed witness secret key: not an Ed25519 cosignature/v1 key (type 0x04)")
	}
	c, err := NewCosigner(parts[0], ed25519.NewKeyFromSeed(raw[1:]))
	if err != nil {
		return nil, err
	}
	if fmt.Sprintf("%08x", c.hash) != parts[1] {
		return nil, errors.New("malformed witness secret key: its key ID does not match the key")
	}
	return c, nil
}
