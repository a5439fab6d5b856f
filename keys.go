package sealog

import (
	"golang.org/x/mod/sumdb/note"

	"github.com/sealog/sealog/keys"
)

// Key is a log's signing key: a C2SP signed-note signer whose name is the
// log's origin, with its verifier key (package keys).
type Key = keys.Key

// ErrVerifierKeyGiven is returned by LoadKey and ParseKey for a public
// verifier key where the private signer key was needed.
var ErrVerifierKeyGiven = keys.ErrVerifierKeyGiven

// GenerateKey makes a new Ed25519 key pair for a log with the given origin
// (for example "example.com/audit/prod"). skey is the secret signer key
// ("PRIVATE+KEY+<origin>+<hash>+<base64>"), vkey the public verifier key
// ("<origin>+<hash>+<base64>") that auditors use. Every origin it accepts
// round-trips through ParseKey.
func GenerateKey(origin string) (skey, vkey string, err error) { return keys.Generate(origin) }

// ParseKey parses a signer key as GenerateKey returns it, working out the
// matching verifier key.
func ParseKey(skey string) (*Key, error) { return keys.Parse(skey) }

// NewKey wraps a signer kept elsewhere (an HSM or a KMS) whose verifier
// key is vkey. The signer's name and key hash must match vkey's.
func NewKey(signer note.Signer, vkey string) (*Key, error) { return keys.New(signer, vkey) }

// WriteKeyFiles generates a key pair for origin and writes the signer key
// to path (mode 0600) and the verifier key to path+".pub" (0644). It
// refuses to overwrite either file. It returns the verifier key.
func WriteKeyFiles(path, origin string) (vkey string, err error) {
	return keys.WriteFiles(path, origin)
}

// LoadKey reads a signer key file, refusing one that others can read
// (ErrKeyPermissions) and naming a verifier key given by mistake
// (ErrVerifierKeyGiven).
func LoadKey(path string) (*Key, error) { return keys.Load(path) }

// LoadVerifier reads a verifier key (a ".pub" file) and returns the note
// verifier and the key text.
func LoadVerifier(path string) (note.Verifier, string, error) { return keys.LoadVerifier(path) }

// ParseVerifier parses a verifier key text.
func ParseVerifier(vkey string) (note.Verifier, string, error) { return keys.ParseVerifier(vkey) }
