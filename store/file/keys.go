//go:build unix

package file

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/internal/durable"
	"github.com/sealog/sealog/layout"
)

// The store checks batch signatures at recovery to find damage, not to
// decide what is authentic (the Log follows the chain of keys through the
// rotation records, and verifiers read nothing but the lines). A rotated
// log is signed by several keys, so the store accepts a signature by the
// key in sealog.json or by one listed in the keys file, which Log.Rotate
// fills (RecordKey) before it appends the rotation record.

// loadKeys reads the keys file into the store's keyring, after the
// metadata's key.
func (s *Store) loadKeys() error {
	ring := []note.Verifier{s.verifier}
	var texts []string
	b, err := readSmall(filepath.Join(s.dir, layout.KeysFile), 64<<10)
	if errors.Is(err, fs.ErrNotExist) {
		s.setKeyring(ring)
		return nil
	}
	if err != nil {
		return err
	}
	for i, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		v, err := note.NewVerifier(line)
		if err != nil || v.Name() != s.meta.Origin {
			return fmt.Errorf("%s: line %d of %s is not a verifier key of %q", s.dir, i+1, layout.KeysFile, s.meta.Origin)
		}
		ring, texts = append(ring, v), append(texts, line)
	}
	s.setKeyring(ring)
	s.keyMu.Lock()
	s.keyTexts = texts
	s.keyMu.Unlock()
	return nil
}

func (s *Store) setKeyring(ring []note.Verifier) {
	s.keyMu.Lock()
	s.keyring = ring
	s.keyMu.Unlock()
}

func (s *Store) keys() []note.Verifier {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	return s.keyring
}

// hasKey reports whether vkey is in the keyring.
func (s *Store) hasKey(vkey string) bool {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return false
	}
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	return s.hasKeyLocked(v)
}

func (s *Store) hasKeyLocked(v note.Verifier) bool {
	for _, k := range s.keyring {
		if k.KeyHash() == v.KeyHash() && k.Name() == v.Name() {
			return true
		}
	}
	return false
}

// verifyText reports whether sig is a valid signature on text by a key of
// the keyring.
func (s *Store) verifyText(text, sig []byte) bool {
	if len(sig) < 4 {
		return false
	}
	for _, k := range s.keys() {
		if k.KeyHash() == binary.BigEndian.Uint32(sig) {
			return checkpoint.VerifyText(k, text, sig)
		}
	}
	return false
}

// listed reports whether the keys file lists vkey.
func (s *Store) listed(vkey string) bool {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	for _, t := range s.keyTexts {
		if t == vkey {
			return true
		}
	}
	return false
}

// knownKey reports whether sig carries the key hash of a keyring key.
func (s *Store) knownKey(sig []byte) bool {
	if len(sig) < 4 {
		return false
	}
	for _, k := range s.keys() {
		if k.KeyHash() == keyHashOf(sig) {
			return true
		}
	}
	return false
}

func keyHashOf(sig []byte) uint32 { return binary.BigEndian.Uint32(sig) }

func (s *Store) verifiers() note.Verifiers { return note.VerifierList(s.keys()...) }

// RecordKey adds vkey to the keys file (durably) and the keyring, so that
// the store accepts its signatures, now and after a reopen. Log.Rotate
// calls it before appending the rotation record.
func (s *Store) RecordKey(ctx context.Context, vkey string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	v, err := note.NewVerifier(vkey)
	if err != nil || v.Name() != s.meta.Origin {
		return fmt.Errorf("%s: not a verifier key of %q", s.dir, s.meta.Origin)
	}
	if s.opts.ReadOnly {
		return errors.New("file store: read-only")
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if vkey == s.meta.Key || s.listed(vkey) {
		return nil
	}
	s.keyMu.Lock()
	texts := append(append([]string(nil), s.keyTexts...), vkey)
	ring := s.keyring
	if !s.hasKeyLocked(v) {
		ring = append(append([]note.Verifier(nil), s.keyring...), v)
	}
	s.keyMu.Unlock()
	if err := durable.WriteFile(filepath.Join(s.dir, layout.KeysFile), []byte(strings.Join(texts, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	s.keyMu.Lock()
	s.keyring, s.keyTexts = ring, texts
	s.keyMu.Unlock()
	return nil
}
