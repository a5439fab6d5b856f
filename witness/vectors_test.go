package witness

import (
	"bytes"
	"crypto/ed25519"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/policy"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors/witness")

const vectorDir = "../testdata/vectors/witness"

// TestVectors checks the witness vectors (docs/WITNESS.md): a fixed
// add-checkpoint request, answered at a fixed time by a witness with a
// fixed key, gives exactly the cosigned checkpoint kept in the vectors,
// which the vectors' policy accepts. go test -run TestVectors -update
// rewrites them.
func TestVectors(t *testing.T) {
	l := newTreeLog(t, "vectors")
	l.grow(3, "v")
	first := l.request(0)
	l.grow(4, "v")
	req := l.request(3)
	skey, vkey, err := checkpoint.GenerateCosigner(testkit.Rand("witness vectors"), "witness.example/vectors")
	if err != nil {
		t.Fatal(err)
	}
	cs, err := checkpoint.ParseCosigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	st, err := OpenState(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	w, err := New(Config{Cosigner: cs, State: st, Logs: []Log{{Origin: testOrigin, Verifiers: []note.Verifier{l.verifier()}}}, Clock: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	if a := w.add(first); a.status != 200 {
		t.Fatalf("first request: %d %s", a.status, a.body)
	}
	a := w.add(req)
	if a.status != 200 {
		t.Fatalf("request: %d %s", a.status, a.body)
	}
	cosigned := append(l.checkpoint(), a.body...)
	pol := "# the witness vectors' policy\nlog " + l.vkey + "\nwitness W " + vkey + " http://127.0.0.1:7380\nquorum W\n"
	files := map[string][]byte{
		"witness.key":            []byte(skey + "\n"),
		"witness.pub":            []byte(vkey + "\n"),
		"log.pub":                []byte(l.vkey + "\n"),
		"policy":                 []byte(pol),
		"add-checkpoint.request": req,
		"cosigned.checkpoint":    cosigned,
	}
	if *update {
		os.MkdirAll(vectorDir, 0o755)
		for name, b := range files {
			if err := os.WriteFile(filepath.Join(vectorDir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(vectorDir, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s differs from what the code makes (run go test ./witness -run TestVectors -update and review the diff): %v", name, err)
		}
	}
	// The kept cosignature is Ed25519 over the spec's message.
	n, _ := checkpoint.ParseNote(cosigned)
	msg := checkpoint.CosignedMessage(n.Text, uint64(at.Unix()))
	v, _ := checkpoint.ParseCosignatureVerifier(vkey)
	if !ed25519.Verify(v.PublicKey(), msg, n.Sigs[1].Sig[8:]) {
		t.Fatal("the cosignature is not an Ed25519 signature of cosignature/v1, time, checkpoint")
	}
	p, err := policy.Parse([]byte(pol))
	if err != nil {
		t.Fatal(err)
	}
	vd, err := p.Check(cosigned, nil)
	if err != nil || !vd.Vouched[0].Time.Equal(at) || vd.Checkpoint.Size != 7 {
		t.Fatalf("policy check of the vector: %v %+v", err, vd)
	}
}
