package witness_test

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/witness"
)

// A witness that follows one log, and a log's first submission to it.
func Example() {
	dir, _ := os.MkdirTemp("", "witness-example-")
	defer os.RemoveAll(dir)
	cs, _ := checkpoint.NewCosigner("witness.example/w1", ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32)))
	skey, vkey, _ := note.GenerateKey(nil, "example.com/audit")
	logSigner, _ := note.NewSigner(skey)
	logVerifier, _ := note.NewVerifier(vkey)

	st, _ := witness.OpenState(dir)
	defer st.Close()
	w, _ := witness.New(witness.Config{Cosigner: cs, State: st,
		Logs: []witness.Log{{Origin: "example.com/audit", Verifiers: []note.Verifier{logVerifier}}}})
	srv := httptest.NewServer(w)
	defer srv.Close()

	// A log of one entry submits its first checkpoint (old 0, no proof).
	leaf := tlog.RecordHash([]byte("the first entry"))
	ck, _ := checkpoint.Sign(checkpoint.Checkpoint{Origin: "example.com/audit", Size: 1, Root: leaf}, logSigner)
	req := &witness.Request{Old: 0, Checkpoint: ck}
	resp, _ := http.Post(srv.URL+"/add-checkpoint", "text/plain", bytes.NewReader(req.Marshal()))
	line, _ := io.ReadAll(resp.Body)
	resp.Body.Close()

	// The answer is a cosignature line that the witness's key verifies.
	v, _ := checkpoint.ParseCosignatureVerifier(cs.VerifierKey())
	n, err := note.Open(append(ck, line...), note.VerifierList(logVerifier, v))
	fmt.Println(resp.StatusCode, strings.Fields(string(line))[1], err == nil && len(n.Sigs) == 2)
	// Output: 200 witness.example/w1 true
}
