package checkpoint

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"
)

// The verifier's reading of a signed checkpoint (docs/FORMAT.md section
// 6.1). It is stricter than note.Open, and written down, so that every
// verifier reaches the same verdict on the same bytes: note.Open accepts
// non-canonical base64, checks only the first of two signatures by one
// key, and rejects a whole note for a cosigner's name it does not like.

// MaxSignatures is the most signature lines a checkpoint may carry.
const MaxSignatures = 100

// Errors of Verify. A checkpoint that is not one at all (ErrMalformed) is
// an input error when an auditor gave it; the others are verdicts.
var (
	// ErrMalformed: the bytes are not a signed checkpoint note.
	ErrMalformed = errors.New("not a signed checkpoint")
	// ErrNoSignature: no signature line by the key.
	ErrNoSignature = errors.New("not signed by the key")
	// ErrBadSignature: the key's signature line does not verify.
	ErrBadSignature = errors.New("the signature does not verify with the key")
)

// OriginError is a checkpoint of another log than the one wanted.
type OriginError struct {
	Origin string // the checkpoint's
	Want   string
}

func (e *OriginError) Error() string {
	return fmt.Sprintf("a checkpoint of the log %q, not of %q", e.Origin, e.Want)
}

// Signature is one signature line of a signed note.
type Signature struct {
	Name    string
	KeyHash uint32
	Sig     []byte // after the key hash
}

// Note is a signed note split into its text and its signature lines.
type Note struct {
	Text []byte // newline-terminated
	Sigs []Signature
}

// ParseNote splits a signed note (C2SP signed-note) into its text and its
// signature lines, strictly: valid UTF-8 without control characters other
// than newline; the text is everything up to the last blank line; then
// one to MaxSignatures lines "— NAME BASE64", NAME non-empty without
// white space or '+', BASE64 canonical standard base64 of at least five
// bytes; the note ends with a newline. No signature is checked.
func ParseNote(msg []byte) (*Note, error) {
	if len(msg) > MaxSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrMalformed, MaxSize)
	}
	if !utf8.Valid(msg) || bytes.ContainsFunc(msg, func(r rune) bool { return r != '\n' && isControl(r) }) {
		return nil, fmt.Errorf("%w: not UTF-8 text", ErrMalformed)
	}
	split := bytes.LastIndex(msg, []byte("\n\n"))
	if split < 0 || !bytes.HasSuffix(msg, []byte("\n")) || split+2 == len(msg) {
		return nil, fmt.Errorf("%w: no signature lines after a blank line", ErrMalformed)
	}
	n := &Note{Text: msg[:split+1]}
	for _, line := range strings.Split(string(msg[split+2:len(msg)-1]), "\n") {
		rest, ok := strings.CutPrefix(line, "— ")
		name, b64, ok2 := strings.Cut(rest, " ")
		if !ok || !ok2 || !validName(name) {
			return nil, fmt.Errorf("%w: malformed signature line %q", ErrMalformed, line)
		}
		raw, err := base64.StdEncoding.Strict().DecodeString(b64)
		if err != nil || len(raw) < 5 || base64.StdEncoding.EncodeToString(raw) != b64 {
			return nil, fmt.Errorf("%w: signature line %q is not canonical base64 of a key hash and a signature", ErrMalformed, line)
		}
		if len(n.Sigs) == MaxSignatures {
			return nil, fmt.Errorf("%w: more than %d signature lines", ErrMalformed, MaxSignatures)
		}
		n.Sigs = append(n.Sigs, Signature{Name: name, KeyHash: binary.BigEndian.Uint32(raw), Sig: raw[4:]})
	}
	return n, nil
}

// validName is the C2SP signed-note key name rule: non-empty, no Unicode
// white space, no '+'.
func validName(s string) bool {
	return s != "" && !strings.ContainsFunc(s, unicode.IsSpace) && !strings.Contains(s, "+")
}

// Verify reads a signed checkpoint as a verifier must (docs/FORMAT.md
// section 6.1): it parses the note (ParseNote) and its text (Parse), checks
// the origin, and verifies the one signature line by v (same name, same
// key hash). Two lines by v are ErrMalformed; none, ErrNoSignature; one
// that fails, ErrBadSignature. It returns the checkpoint even when the
// signature fails (not when the bytes are malformed or of another origin),
// and the note, whose other lines are cosignatures, unverified.
func Verify(msg []byte, v note.Verifier, origin string) (Checkpoint, *Note, error) {
	n, err := ParseNote(msg)
	if err != nil {
		return Checkpoint{}, nil, err
	}
	c, err := Parse(n.Text)
	if err != nil {
		return Checkpoint{}, nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if origin != "" && c.Origin != origin {
		return Checkpoint{}, n, &OriginError{Origin: c.Origin, Want: origin}
	}
	var own *Signature
	for i := range n.Sigs {
		if s := &n.Sigs[i]; s.Name == v.Name() && s.KeyHash == v.KeyHash() {
			if own != nil {
				return Checkpoint{}, n, fmt.Errorf("%w: two signature lines by the key %s", ErrMalformed, v.Name())
			}
			own = s
		}
	}
	switch {
	case own == nil:
		return c, n, ErrNoSignature
	case !v.Verify(n.Text, own.Sig):
		return c, n, ErrBadSignature
	}
	return c, n, nil
}

// Normalize undoes what mail and ticket systems do to a checkpoint an
// auditor keeps as text: it drops a UTF-8 byte order mark, turns CRLF
// line ends into LF, drops trailing white space at the end, and ends the
// note with exactly one newline. The signed bytes never hold a CR, a BOM or
// trailing blank lines, so this cannot turn an invalid signature into a
// valid one; it only restores the bytes that were signed.
func Normalize(b []byte) []byte {
	b = bytes.TrimPrefix(b, []byte("\uFEFF"))
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	b = bytes.TrimRight(b, " \t\r\n")
	if len(b) == 0 {
		return b
	}
	return append(b[:len(b):len(b)], '\n')
}
