package checkpoint

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func testSigner(t testing.TB, name string) (note.Signer, note.Verifier) {
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := note.NewSigner(skey)
	v, _ := note.NewVerifier(vkey)
	return s, v
}

func TestSignOpen(t *testing.T) {
	s, v := testSigner(t, "example.com/log")
	c := Checkpoint{Origin: "example.com/log", Size: 42, Root: tlog.Hash{1, 2, 3}}
	b, err := Sign(c, s)
	if err != nil {
		t.Fatal(err)
	}
	// Our Sign is note.Sign for one signer.
	want, _ := note.Sign(&note.Note{Text: string(c.Text())}, s)
	if !bytes.Equal(b, want) {
		t.Fatalf("Sign differs from note.Sign:\n%s\n%s", b, want)
	}
	got, n, err := Open(b, note.VerifierList(v), "example.com/log")
	if err != nil || got.Size != 42 || got.Root != c.Root || len(n.Sigs) != 1 {
		t.Fatalf("Open: %+v %v", got, err)
	}
	if _, _, err := Open(b, note.VerifierList(v), "other.example/log"); err == nil {
		t.Fatal("wrong origin accepted")
	}
	_, other := testSigner(t, "example.com/log")
	if _, _, err := Open(b, note.VerifierList(other), ""); err == nil || !strings.Contains(err.Error(), "not signed by a trusted key") {
		t.Fatalf("another key: %v", err)
	}
	bad := bytes.Replace(b, []byte("\n42\n"), []byte("\n43\n"), 1)
	if _, _, err := Open(bad, note.VerifierList(v), ""); err == nil {
		t.Fatal("changed size accepted")
	}
}

func TestParse(t *testing.T) {
	root := "AQIDAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	for _, tc := range []struct {
		text string
		ok   bool
	}{
		{"o\n0\n" + root + "\n", true},
		{"o\n12\n" + root + "\next one\next two\n", true},
		{"o\n012\n" + root + "\n", false},
		{"o\n-1\n" + root + "\n", false},
		{"o\n1\n" + root, false},
		{"o\n1\nAQID\n", false},
		{"\n1\n" + root + "\n", false},
		{"o\n1\n" + root + "\n\n", false},
		{"o\x01\n1\n" + root + "\n", false},
		{"o\n18446744073709551616\n" + root + "\n", false},
	} {
		_, err := Parse([]byte(tc.text))
		if (err == nil) != tc.ok {
			t.Errorf("Parse(%q) = %v, want ok=%v", tc.text, err, tc.ok)
		}
	}
}

// FuzzOpen: no input makes Open or Parse panic, and whatever Open accepts
// re-formats to the text that was signed.
func FuzzOpen(f *testing.F) {
	s, v := testSigner(f, "example.com/log")
	b, _ := Sign(Checkpoint{Origin: "example.com/log", Size: 7, Root: tlog.Hash{9}}, s)
	f.Add(b)
	f.Add([]byte("example.com/log\n7\nAQID\n\n— example.com/log AAAA\n"))
	vs := note.VerifierList(v)
	f.Fuzz(func(t *testing.T, msg []byte) {
		Parse(msg)
		ParseUnverified(msg)
		c, n, err := Open(msg, vs, "")
		if err != nil {
			return
		}
		if string(c.Text()) != n.Text {
			t.Fatalf("accepted a checkpoint whose text does not re-format: %q", n.Text)
		}
	})
}
