package witness

import (
	"bytes"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/internal/testkit"
)

func FuzzParseRequest(f *testing.F) {
	l := newTreeLog(f, "log")
	l.grow(7, "a")
	f.Add(l.request(0))
	f.Add(l.request(3))
	f.Add([]byte("old 0\n\n"))
	if b, err := os.ReadFile(filepath.Join(vectorDir, "add-checkpoint.request")); err == nil {
		f.Add(b)
	}
	f.Add([]byte("old 18446744073709551616\n\nx\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseRequest(b)
		if err != nil {
			return
		}
		// What parses re-encodes to the same bytes: the parser accepts
		// only the canonical form.
		if got := r.Marshal(); !bytes.Equal(got, b) {
			t.Fatalf("re-encoding %q gives %q", b, got)
		}
		if len(r.Proof) > MaxProofLines || len(r.Checkpoint) == 0 {
			t.Fatalf("accepted %d proof lines, checkpoint %q", len(r.Proof), r.Checkpoint)
		}
	})
}

// FuzzAdd runs whole requests through the witness: it never panics, and
// a 200 is only ever for a checkpoint whose signature verifies.
func FuzzAdd(f *testing.F) {
	l := newTreeLog(f, "log")
	l.grow(7, "a")
	f.Add(l.request(0))
	f.Add(l.request(3))
	w := fuzzWitness(f, l)
	f.Fuzz(func(t *testing.T, b []byte) {
		a := w.add(b)
		if a.status == 200 {
			req, err := ParseRequest(b)
			if err != nil {
				t.Fatalf("200 for an unparsable request")
			}
			if _, err := checkpoint.ParseNote(req.Checkpoint); err != nil {
				t.Fatalf("200 for a malformed note")
			}
		}
	})
}

func fuzzWitness(t testing.TB, l *treeLog) *Witness {
	cs, _ := checkpoint.NewCosigner("witness.example/w1", ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32)))
	st, err := OpenState(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w, err := New(Config{Cosigner: cs, State: st, Logs: []Log{{Origin: testOrigin, Verifiers: []note.Verifier{l.verifier()}}}, Clock: testkit.Clock(0)})
	if err != nil {
		t.Fatal(err)
	}
	return w
}
