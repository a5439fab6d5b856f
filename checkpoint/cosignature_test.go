package checkpoint

import (
	"crypto/ed25519"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/sealog/sealog/internal/testkit"
)

func TestCosignatureRoundTrip(t *testing.T) {
	skey, vkey, err := GenerateCosigner(testkit.Rand("cosigner"), "witness.example/w1")
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseCosigner(skey)
	if err != nil || c.VerifierKey() != vkey {
		t.Fatalf("ParseCosigner: %v, vkey %s want %s", err, c.VerifierKey(), vkey)
	}
	v, err := ParseCosignatureVerifier(vkey)
	if err != nil || v.String() != vkey {
		t.Fatalf("ParseCosignatureVerifier: %v", err)
	}
	lskey, lvkey := testkit.Keys("log", "example.com/log")
	ls, _ := note.NewSigner(lskey)
	lv, _ := note.NewVerifier(lvkey)
	msg, _ := Sign(Checkpoint{Origin: "example.com/log", Size: 4}, ls)
	at := time.Unix(1700000000, 0)
	signed := append(msg, c.Cosign(Checkpoint{Origin: "example.com/log", Size: 4}.Text(), at)...)
	// note.Open, the reference signed-note reader, accepts it.
	n, err := note.Open(signed, note.VerifierList(lv, v))
	if err != nil || len(n.Sigs) != 2 {
		t.Fatalf("note.Open: %v", err)
	}
	pn, _ := ParseNote(signed)
	if got, ok := v.Check(pn.Text, pn.Sigs[1].Sig); !ok || !got.Equal(at) {
		t.Fatalf("Check: %v %v", got, ok)
	}
	// A zero time is stamped 1: the spec forbids a zero timestamp.
	line := c.Cosign(pn.Text, time.Unix(0, 0))
	pn2, _ := ParseNote(append(msg, line...))
	if got, ok := v.Check(pn2.Text, pn2.Sigs[1].Sig); !ok || got.Unix() != 1 {
		t.Fatalf("zero time: %v %v", got, ok)
	}
}

func TestCosignatureKeyErrors(t *testing.T) {
	_, vkey, _ := GenerateCosigner(testkit.Rand("k"), "w.example")
	_, logVKey := testkit.Keys("log", "example.com/log")
	parts := strings.SplitN(vkey, "+", 3)
	cases := []struct{ name, vkey, want string }{
		{"log key", logVKey, "type 0x04"},
		{"wrong key ID", parts[0] + "+00000000+" + parts[2], "does not match"},
		{"renamed", "other.example+" + parts[1] + "+" + parts[2], "does not match"},
		{"not a vkey", "w.example", "not a verifier key"},
		{"bad hex", parts[0] + "+zzzzzzzz+" + parts[2], "malformed key ID"},
	}
	for _, c := range cases {
		if _, err := ParseCosignatureVerifier(c.vkey); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	if _, err := NewCosigner("has space", ed25519.NewKeyFromSeed(make([]byte, 32))); err == nil {
		t.Error("a name with a space was accepted")
	}
	for _, s := range []string{"PRIVATE+KEY+x", "not a key", strings.Replace(vkey, "w.example", "PRIVATE+KEY+w.example", 1)} {
		if _, err := ParseCosigner(s); err == nil {
			t.Errorf("ParseCosigner(%q) accepted", s)
		}
	}
}
