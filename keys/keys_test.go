package keys

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOriginRule(t *testing.T) {
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{"example.com/audit", true},
		{"例え.jp/監査", true},
		{"", false},
		{"a b", false},
		{"a\u00a0b", false}, // a Unicode space the note package refuses
		{"a\u2003b", false},
		{"a+b", false},
		{"a\x01b", false},
		{"a\u0085b", false},
		{"a\x7fb", false},
		{"\xff", false},
	} {
		skey, vkey, err := Generate(tc.origin)
		if (err == nil) != tc.ok {
			t.Errorf("Generate(%q): %v, want ok=%v", tc.origin, err, tc.ok)
			continue
		}
		if err != nil {
			continue
		}
		k, err := Parse(skey)
		if err != nil || k.VerifierKey() != vkey || k.Origin() != tc.origin {
			t.Errorf("Parse of the key Generate(%q) made: %v", tc.origin, err)
		}
	}
}

// FuzzOriginRoundTrip: every origin Generate accepts round-trips through
// Parse, and its verifier key through ParseVerifier.
func FuzzOriginRoundTrip(f *testing.F) {
	for _, s := range []string{"example.com/audit", "a\u00a0b", "x", "a+b", "é/ü"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, origin string) {
		skey, vkey, err := Generate(origin)
		if err != nil {
			return
		}
		k, err := Parse(skey)
		if err != nil {
			t.Fatalf("Generate(%q) made a key Parse refuses: %v", origin, err)
		}
		if k.VerifierKey() != vkey || k.Origin() != origin {
			t.Fatalf("round trip of %q changed the key", origin)
		}
		if _, _, err := ParseVerifier(vkey); err != nil {
			t.Fatalf("Generate(%q) made a verifier key ParseVerifier refuses: %v", origin, err)
		}
	})
}

func TestKeyFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k")
	vkey, err := WriteFiles(path, "perm.example/log")
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("signer key file mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	if _, err := WriteFiles(path, "perm.example/log"); err == nil {
		t.Fatal("WriteFiles overwrote a key")
	}
	k, err := Load(path)
	if err != nil || k.VerifierKey() != vkey {
		t.Fatalf("Load: %v", err)
	}
	if strings.Contains(k.String(), "PRIVATE") {
		t.Fatal("Key.String reveals the private key")
	}
	os.Chmod(path, 0o640)
	if _, err := Load(path); !errors.Is(err, ErrKeyPermissions) {
		t.Fatalf("Load of a group-readable key: %v", err)
	}
	if _, err := Load(path + ".pub"); !errors.Is(err, ErrVerifierKeyGiven) {
		t.Fatalf("Load of the verifier key: %v", err)
	}
	if _, _, err := ParseVerifier("PRIVATE+KEY+x+1+abc"); err == nil || strings.Contains(err.Error(), "abc") {
		t.Fatalf("ParseVerifier of a private key: %v (must refuse without echoing it)", err)
	}
}
