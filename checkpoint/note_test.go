package checkpoint

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// TestVerifyStrict: the verifier's reading of a signed checkpoint
// (docs/FORMAT.md section 6.1), where note.Open is laxer.
func TestVerifyStrict(t *testing.T) {
	s, v := testSigner(t, "example.com/log")
	c := Checkpoint{Origin: "example.com/log", Size: 42, Root: tlog.Hash{1, 2, 3}}
	good, _ := Sign(c, s)
	text, sig, _ := strings.Cut(string(good), "\n\n")
	text += "\n\n"
	other, _ := testSigner(t, "example.com/log")
	bad, _ := Sign(c, other) // same name, another key
	_, badSig, _ := strings.Cut(string(bad), "\n\n")
	for _, tc := range []struct {
		name, note string
		err        error
	}{
		{"good", text + sig, nil},
		{"with a cosignature", text + sig + "— witness.example/w AAAAAAAAAAAA\n", nil},
		{"by another key of the same name", text + badSig, ErrNoSignature},
		{"both", text + badSig + sig, nil},
		{"no signature line", text, ErrMalformed},
		{"two lines by the key", text + sig + sig, ErrMalformed},
		{"a cosigner named with +", text + sig + "— wit+ness AAAAAAAAAAAA\n", ErrMalformed},
		{"non-canonical base64", text + sig[:len(sig)-3] + string(sig[len(sig)-3]+1) + "=\n", ErrMalformed},
		{"no final newline", strings.TrimSuffix(text+sig, "\n"), ErrMalformed},
		{"a CR", strings.Replace(text+sig, "\n", "\r\n", 1), ErrMalformed},
		{"not a checkpoint", "hello\n\n" + sig, ErrMalformed},
		{"a changed size", strings.Replace(text, "\n42\n", "\n43\n", 1) + sig, ErrBadSignature},
	} {
		_, _, err := Verify([]byte(tc.note), v, "example.com/log")
		if !errors.Is(err, tc.err) && !(tc.err == nil && err == nil) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.err)
		}
	}
	var oe *OriginError
	if _, _, err := Verify(good, v, "other.example/log"); !errors.As(err, &oe) || oe.Origin != "example.com/log" {
		t.Errorf("another origin: %v", err)
	}
}

func TestNormalize(t *testing.T) {
	s, v := testSigner(t, "example.com/log")
	good, _ := Sign(Checkpoint{Origin: "example.com/log", Size: 1, Root: tlog.Hash{9}}, s)
	for name, b := range map[string][]byte{
		"as is":             good,
		"CRLF":              bytes.ReplaceAll(good, []byte("\n"), []byte("\r\n")),
		"no final newline":  bytes.TrimSuffix(good, []byte("\n")),
		"a BOM":             append([]byte("\uFEFF"), good...),
		"trailing newlines": append(bytes.Clone(good), "\n\n\r\n"...),
	} {
		n := Normalize(b)
		if !bytes.Equal(n, good) {
			t.Errorf("%s: %q", name, n)
		}
		if _, _, err := Verify(n, v, ""); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
