// Package checkpoint formats, parses, signs and verifies C2SP
// tlog-checkpoints (https://c2sp.org/tlog-checkpoint) as C2SP signed notes
// (https://c2sp.org/signed-note), using golang.org/x/mod/sumdb/note.
//
// A checkpoint's text is
//
//	<origin>
//	<tree size, decimal>
//	<root hash, base64>
//	[extension lines]
//
// and the signed note appends a blank line and one "— <key name> <base64>"
// line per signature. sealog names its key after the log's origin.
package checkpoint

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// MaxSize is the largest signed checkpoint a parser accepts.
const MaxSize = 1 << 16

// Checkpoint is the content of a C2SP tlog-checkpoint.
type Checkpoint struct {
	Origin     string
	Size       uint64
	Root       tlog.Hash
	Extensions []string // extra lines after the root hash, kept as read
}

// Text returns the checkpoint's note text, newline-terminated.
func (c Checkpoint) Text() []byte {
	b := make([]byte, 0, len(c.Origin)+80)
	b = append(b, c.Origin...)
	b = append(b, '\n')
	b = strconv.AppendUint(b, c.Size, 10)
	b = append(b, '\n')
	b = base64.StdEncoding.AppendEncode(b, c.Root[:])
	b = append(b, '\n')
	for _, e := range c.Extensions {
		b = append(b, e...)
		b = append(b, '\n')
	}
	return b
}

// Parse parses a checkpoint's note text (not the signed note: use Open for
// that). It accepts only the canonical form: a valid origin, a decimal size
// without leading zeros, a base64 hash of 32 bytes, non-empty extension lines.
func Parse(text []byte) (Checkpoint, error) {
	var c Checkpoint
	if len(text) > MaxSize {
		return c, errors.New("checkpoint: too large")
	}
	if !utf8.Valid(text) || len(text) == 0 || text[len(text)-1] != '\n' {
		return c, errors.New("checkpoint: text is not newline-terminated UTF-8")
	}
	lines := strings.Split(string(text[:len(text)-1]), "\n")
	if len(lines) < 3 {
		return c, errors.New("checkpoint: want origin, size and root hash lines")
	}
	if lines[0] == "" || strings.ContainsFunc(lines[0], isControl) {
		return c, errors.New("checkpoint: empty or malformed origin line")
	}
	c.Origin = lines[0]
	size, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil || strconv.FormatUint(size, 10) != lines[1] {
		return c, fmt.Errorf("checkpoint: malformed tree size %q", lines[1])
	}
	c.Size = size
	root, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		return c, fmt.Errorf("checkpoint: malformed root hash %q", lines[2])
	}
	copy(c.Root[:], root)
	for _, e := range lines[3:] {
		if e == "" || strings.ContainsFunc(e, isControl) {
			return c, errors.New("checkpoint: empty or malformed extension line")
		}
		c.Extensions = append(c.Extensions, e)
	}
	return c, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// Sign signs c with s and returns the signed note. It is note.Sign for one
// signer, without the intermediate copies.
func Sign(c Checkpoint, s note.Signer) ([]byte, error) {
	text := c.Text()
	sig, err := SignText(text, s)
	if err != nil {
		return nil, err
	}
	return Assemble(text, s.Name(), sig), nil
}

// SignText signs a checkpoint text and returns the signature as a note
// signature line carries it: the 4-byte key hash, then the signature.
func SignText(text []byte, s note.Signer) ([]byte, error) {
	sig, err := s.Sign(text)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: signing: %w", err)
	}
	out := make([]byte, 4, 4+len(sig))
	binary.BigEndian.PutUint32(out, s.KeyHash())
	return append(out, sig...), nil
}

// Assemble builds the signed note from a text and one signature
// (key hash || signature) by the key called name.
func Assemble(text []byte, name string, sig []byte) []byte {
	b := make([]byte, 0, len(text)+len(name)+8+base64.StdEncoding.EncodedLen(len(sig)))
	b = append(b, text...)
	b = append(b, "\n— "...)
	b = append(b, name...)
	b = append(b, ' ')
	b = base64.StdEncoding.AppendEncode(b, sig)
	return append(b, '\n')
}

// VerifyText reports whether sig (key hash || signature) is v's valid
// signature on text.
func VerifyText(v note.Verifier, text, sig []byte) bool {
	return len(sig) > 4 && binary.BigEndian.Uint32(sig) == v.KeyHash() && v.Verify(text, sig[4:])
}

// Open verifies a signed checkpoint note against the verifiers and parses
// it. The checkpoint's origin must be wantOrigin unless that is empty.
// It returns the parsed checkpoint and the opened note (whose Sigs and
// UnverifiedSigs list the signatures, e.g. witness cosignatures).
func Open(msg []byte, verifiers note.Verifiers, wantOrigin string) (Checkpoint, *note.Note, error) {
	if len(msg) > MaxSize {
		return Checkpoint{}, nil, errors.New("checkpoint: too large")
	}
	n, err := note.Open(msg, verifiers)
	if err != nil {
		var unv *note.UnverifiedNoteError
		if errors.As(err, &unv) {
			return Checkpoint{}, nil, errors.New("checkpoint: not signed by a trusted key")
		}
		var inv *note.InvalidSignatureError
		if errors.As(err, &inv) {
			return Checkpoint{}, nil, fmt.Errorf("checkpoint: invalid signature by %s", inv.Name)
		}
		return Checkpoint{}, nil, fmt.Errorf("checkpoint: %w", err)
	}
	c, err := Parse([]byte(n.Text))
	if err != nil {
		return Checkpoint{}, nil, err
	}
	if wantOrigin != "" && c.Origin != wantOrigin {
		return Checkpoint{}, nil, fmt.Errorf("checkpoint: origin %q, want %q", c.Origin, wantOrigin)
	}
	return c, n, nil
}

// ParseUnverified parses a signed note's text without checking any
// signature: for showing what a checkpoint claims, never for trusting it.
func ParseUnverified(msg []byte) (Checkpoint, error) {
	i := bytes.LastIndex(msg, []byte("\n\n"))
	if i < 0 {
		return Checkpoint{}, errors.New("checkpoint: not a signed note")
	}
	return Parse(msg[:i+1])
}
