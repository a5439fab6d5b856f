// Package keys holds a sealog log's signing key and its files: Ed25519
// C2SP signed-note keys whose name is the log's origin, one origin rule
// (the note package's, plus no control characters, so that every origin
// accepted here is a valid checkpoint origin), and key files kept 0600
// and never overwritten. Package sealog re-exports it; the command uses
// it directly.
package keys

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"

	"github.com/sealog/sealog/internal/durable"
)

// Key is a log's signing key: a C2SP signed-note signer whose name is the
// log's origin, with its verifier key. The signer may be held elsewhere
// (New).
type Key struct {
	signer   note.Signer
	verifier note.Verifier
	vkey     string
}

// Generate makes a new Ed25519 key pair for a log with the given origin
// (for example "example.com/audit/prod"). skey is the secret signer key
// ("PRIVATE+KEY+<origin>+<hash>+<base64>"), vkey the public verifier key
// ("<origin>+<hash>+<base64>") that auditors use.
func Generate(origin string) (skey, vkey string, err error) {
	if err := CheckOrigin(origin); err != nil {
		return "", "", err
	}
	return note.GenerateKey(rand.Reader, origin)
}

// CheckOrigin enforces the one origin rule: the note package's rule for
// key names (non-empty, valid UTF-8, no Unicode space, no '+'), and no
// control characters (a checkpoint's origin line must have none).
func CheckOrigin(origin string) error {
	if origin == "" || !utf8.ValidString(origin) || strings.ContainsFunc(origin, unicode.IsSpace) || strings.Contains(origin, "+") ||
		strings.ContainsFunc(origin, unicode.IsControl) {
		return fmt.Errorf("origin %q: must be non-empty UTF-8 without spaces (of any kind), control characters or '+' (e.g. example.com/audit)", origin)
	}
	return nil
}

// Parse parses a signer key as Generate returns it. It works out the
// matching verifier key, so the log can record and check it.
func Parse(skey string) (*Key, error) {
	skey = strings.TrimSpace(skey)
	s, err := note.NewSigner(skey)
	if err != nil {
		if strings.HasPrefix(skey, "PRIVATE+KEY+") {
			return nil, fmt.Errorf("malformed signer key: %v", err)
		}
		if _, verr := note.NewVerifier(skey); verr == nil {
			return nil, ErrVerifierKeyGiven
		}
		return nil, errors.New("not a signer key (it should start with PRIVATE+KEY+)")
	}
	// A note signer key is PRIVATE+KEY+name+hash+base64(alg || seed); the
	// name has no '+', the base64 may.
	parts := strings.SplitN(skey, "+", 5)
	raw, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(raw) != 1+ed25519.SeedSize || raw[0] != 1 {
		return nil, errors.New("malformed signer key: not an Ed25519 key")
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	vkey, err := note.NewEd25519VerifierKey(s.Name(), pub)
	if err != nil {
		return nil, err
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, err
	}
	return &Key{signer: s, verifier: v, vkey: vkey}, nil
}

// New wraps a signer kept elsewhere (an HSM or a KMS) whose verifier
// key is vkey. The signer's name and key hash must match vkey's.
func New(signer note.Signer, vkey string) (*Key, error) {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("malformed verifier key: %v", err)
	}
	if v.Name() != signer.Name() || v.KeyHash() != signer.KeyHash() {
		return nil, errors.New("the signer and the verifier key are not a pair")
	}
	return &Key{signer: signer, verifier: v, vkey: vkey}, nil
}

// Origin returns the log origin the key signs for (the key's name).
func (k *Key) Origin() string { return k.signer.Name() }

// VerifierKey returns the public verifier key, to give to auditors.
func (k *Key) VerifierKey() string { return k.vkey }

// Verifier returns the key's note verifier.
func (k *Key) Verifier() note.Verifier { return k.verifier }

// Signer returns the key's note signer.
func (k *Key) Signer() note.Signer { return k.signer }

// String names the key without revealing it.
func (k *Key) String() string { return "sealog key " + k.vkey }

// WriteFiles generates a key pair for origin and writes the signer key
// to path (mode 0600) and the verifier key to path+".pub" (0644). It
// refuses to overwrite either file. It returns the verifier key.
func WriteFiles(path, origin string) (vkey string, err error) {
	skey, vkey, err := Generate(origin)
	if err != nil {
		return "", err
	}
	for _, p := range []string{path, path + ".pub"} {
		if _, err := os.Lstat(p); err == nil {
			return "", fmt.Errorf("%s already exists; refusing to overwrite a key", p)
		}
	}
	if err := durable.WriteNew(path, []byte(skey+"\n"), 0o600); err != nil {
		return "", err
	}
	if err := durable.WriteNew(path+".pub", []byte(vkey+"\n"), 0o644); err != nil {
		os.Remove(path)
		return "", err
	}
	return vkey, nil
}

// ErrVerifierKeyGiven is returned by Load and Parse for a public
// verifier key where the private signer key was needed.
var ErrVerifierKeyGiven = errors.New("this is a verifier (public) key; writing needs the private signer key")

// ErrKeyPermissions is returned by Load for a key file that others can
// read.
var ErrKeyPermissions = errors.New("key file readable by others")

// Load reads a signer key file. It refuses a file that others can read
// (any group or other permission bit), as ssh does, with an error wrapping
// ErrKeyPermissions; a verifier key file given by mistake gets
// ErrVerifierKeyGiven instead (it is meant to be readable).
func Load(path string) (*Key, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("key file %s is not a regular file", path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	text := strings.TrimSpace(string(b))
	if !strings.HasPrefix(text, "PRIVATE+KEY+") {
		if _, verr := note.NewVerifier(text); verr == nil {
			return nil, fmt.Errorf("key file %s: %w (give the file without .pub)", path, ErrVerifierKeyGiven)
		}
		return nil, fmt.Errorf("key file %s is not a sealog signer key (it should start with PRIVATE+KEY+)", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %04o; run: chmod 600 %s", ErrKeyPermissions, path, perm, path)
	}
	k, err := Parse(text)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return k, nil
}

// LoadVerifier reads a verifier key (a ".pub" file) and returns the note
// verifier and the key text.
func LoadVerifier(path string) (note.Verifier, string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	return ParseVerifier(string(b))
}

// ParseVerifier parses a verifier key text.
func ParseVerifier(vkey string) (note.Verifier, string, error) {
	vkey = strings.TrimSpace(vkey)
	if strings.HasPrefix(vkey, "PRIVATE+KEY+") {
		return nil, "", errors.New("this is a private signer key, not a verifier key: give the .pub file")
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, "", fmt.Errorf("malformed verifier key: %v", err)
	}
	return v, vkey, nil
}
