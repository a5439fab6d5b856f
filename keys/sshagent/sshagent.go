// Package sshagent signs a sealog log with an Ed25519 key held in an
// ssh-agent (OpenSSH's, or any agent speaking its protocol, such as a
// hardware token's), so that the private key never sits in a file on the
// log's machine: sealog asks the agent to sign each batch's checkpoint.
//
//	k, err := sshagent.Key(os.Getenv("SSH_AUTH_SOCK"), "SHA256:…", "example.com/audit")
//	log, err := sealog.Open(dir, sealog.Options{Key: k})
//
// The key is named by its SHA-256 fingerprint, as `ssh-add -l` prints it,
// or left empty when the agent holds exactly one Ed25519 key. The agent
// connection is kept for the key's lifetime; an agent that goes away
// makes appends fail (nothing is signed without it) until it is back.
package sshagent

import (
	"crypto"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/sealog/sealog/keys"
)

// Key connects to the agent listening on socket (usually
// $SSH_AUTH_SOCK) and returns the log key for origin backed by the agent's
// Ed25519 key with the given fingerprint ("SHA256:…"; "" for the agent's
// only Ed25519 key).
func Key(socket, fingerprint, origin string) (*keys.Key, error) {
	s, err := Signer(socket, fingerprint)
	if err != nil {
		return nil, err
	}
	return keys.FromSigner(origin, s)
}

// Signer returns the agent's Ed25519 key with the given fingerprint as a
// crypto.Signer.
func Signer(socket, fingerprint string) (crypto.Signer, error) {
	if socket == "" {
		return nil, errors.New("ssh-agent: no agent socket (is SSH_AUTH_SOCK set?)")
	}
	s := &signer{socket: socket}
	ks, err := s.list()
	if err != nil {
		return nil, err
	}
	var found []*agent.Key
	for _, k := range ks {
		if k.Type() != ssh.KeyAlgoED25519 {
			continue
		}
		if fingerprint == "" || ssh.FingerprintSHA256(k) == fingerprint {
			found = append(found, k)
		}
	}
	switch {
	case len(found) == 0 && fingerprint == "":
		return nil, errors.New("ssh-agent: the agent holds no Ed25519 key (add one with ssh-add)")
	case len(found) == 0:
		return nil, fmt.Errorf("ssh-agent: the agent holds no Ed25519 key with fingerprint %s (see ssh-add -l)", fingerprint)
	case len(found) > 1:
		return nil, errors.New("ssh-agent: the agent holds several Ed25519 keys: name one by its fingerprint (ssh-add -l)")
	}
	pk, err := ssh.ParsePublicKey(found[0].Marshal())
	if err != nil {
		return nil, fmt.Errorf("ssh-agent: %v", err)
	}
	cpk, ok := pk.(ssh.CryptoPublicKey)
	if !ok {
		return nil, errors.New("ssh-agent: not an Ed25519 public key")
	}
	pub, ok := cpk.CryptoPublicKey().(ed25519.PublicKey)
	if !ok {
		return nil, errors.New("ssh-agent: not an Ed25519 public key")
	}
	s.key, s.pub = pk, pub
	return s, nil
}

// signer is a crypto.Signer over one agent key. It dials the agent again
// after a broken connection.
type signer struct {
	socket string
	key    ssh.PublicKey
	pub    ed25519.PublicKey

	mu   sync.Mutex // guards conn and ag; one request at a time on the connection
	conn net.Conn
	ag   agent.ExtendedAgent
}

func (s *signer) Public() crypto.PublicKey { return s.pub }

// Sign asks the agent to sign msg (pure Ed25519: opts must be
// crypto.Hash(0)).
func (s *signer) Sign(_ io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	if opts.HashFunc() != 0 {
		return nil, errors.New("ssh-agent: Ed25519 signs the message itself, not a hash")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for attempt := 0; ; attempt++ {
		ag, err := s.agentLocked()
		if err != nil {
			return nil, err
		}
		sig, err := ag.Sign(s.key, msg)
		if err == nil {
			if sig.Format != ssh.KeyAlgoED25519 || len(sig.Blob) != ed25519.SignatureSize {
				return nil, fmt.Errorf("ssh-agent: unexpected signature format %q", sig.Format)
			}
			return sig.Blob, nil
		}
		s.closeLocked()
		if attempt > 0 {
			return nil, fmt.Errorf("ssh-agent: signing: %v", err)
		}
	}
}

func (s *signer) list() ([]*agent.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ag, err := s.agentLocked()
	if err != nil {
		return nil, err
	}
	ks, err := ag.List()
	if err != nil {
		s.closeLocked()
		return nil, fmt.Errorf("ssh-agent: listing keys: %v", err)
	}
	return ks, nil
}

func (s *signer) agentLocked() (agent.ExtendedAgent, error) {
	if s.ag != nil {
		return s.ag, nil
	}
	c, err := net.Dial("unix", s.socket)
	if err != nil {
		return nil, fmt.Errorf("ssh-agent: connecting to %s: %v", s.socket, err)
	}
	s.conn, s.ag = c, agent.NewClient(c)
	return s.ag, nil
}

func (s *signer) closeLocked() {
	if s.conn != nil {
		s.conn.Close()
	}
	s.conn, s.ag = nil, nil
}
