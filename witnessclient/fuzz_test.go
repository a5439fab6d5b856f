package witnessclient

import (
	"bytes"
	"crypto/ed25519"
	"strconv"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/policy"
)

// FuzzParseSize: a 409 answer is untrusted; what parses is the canonical
// decimal and a newline.
func FuzzParseSize(f *testing.F) {
	f.Add("text/x.tlog.size", []byte("12\n"))
	f.Add("text/x.tlog.size", []byte("012\n"))
	f.Add("text/plain", []byte("1\n"))
	f.Fuzz(func(t *testing.T, ctype string, body []byte) {
		n, err := parseSize(ctype, body)
		if err == nil && strconv.FormatUint(n, 10)+"\n" != string(body) {
			t.Fatalf("accepted %q as %d", body, n)
		}
	})
}

// FuzzCheckCosignature: a witness's 200 answer is untrusted; the client
// keeps a line only if it is the witness's valid cosignature on the note.
func FuzzCheckCosignature(f *testing.F) {
	seed := make([]byte, 32)
	cs, _ := checkpoint.NewCosigner("w.example", ed25519.NewKeyFromSeed(seed))
	v, _ := checkpoint.ParseCosignatureVerifier(cs.VerifierKey())
	w := &policy.Witness{Name: "W", VKey: cs.VerifierKey(), Verifier: v}
	skey, _ := testkit.Keys("fuzz", "example.com/log")
	s, _ := note.NewSigner(skey)
	msg, _ := checkpoint.Sign(checkpoint.Checkpoint{Origin: "example.com/log", Size: 3, Root: tlog.Hash{3}}, s)
	text := checkpoint.Checkpoint{Origin: "example.com/log", Size: 3, Root: tlog.Hash{3}}.Text()
	good := cs.Cosign(text, time.Unix(1700000000, 0))
	f.Add(good)
	f.Add(append(bytes.Clone(good), good...))
	f.Add([]byte("— w.example AAAA\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		line, err := checkCosignature(w, msg, body)
		if err != nil {
			return
		}
		n, err := checkpoint.ParseNote(append(bytes.Clone(msg), line...))
		if err != nil || len(n.Sigs) != 2 {
			t.Fatalf("kept a line that does not parse: %q", line)
		}
		if _, ok := v.Check(n.Text, n.Sigs[1].Sig); !ok {
			t.Fatalf("kept a cosignature that does not verify: %q", line)
		}
	})
}
