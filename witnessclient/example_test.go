package witnessclient_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"

	"golang.org/x/mod/sumdb/note"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/policy"
	"github.com/sealog/sealog/witness"
	"github.com/sealog/sealog/witnessclient"
)

// A log that has its checkpoints cosigned by one witness.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "witnessclient-example-")
	defer os.RemoveAll(dir)
	skey, vkey, _ := sealog.GenerateKey("example.com/audit")
	key, _ := sealog.ParseKey(skey)
	l, _ := sealog.Open(filepath.Join(dir, "log"), sealog.Options{Key: key})
	defer l.Close()

	// The witness (usually another party's 'sealog witness').
	cs, _ := checkpoint.NewCosigner("witness.example/w1", ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32)))
	st, _ := witness.OpenState(filepath.Join(dir, "witness"))
	defer st.Close()
	logV, _ := note.NewVerifier(vkey)
	w, _ := witness.New(witness.Config{Cosigner: cs, State: st, Logs: []witness.Log{{Origin: "example.com/audit", Verifiers: []note.Verifier{logV}}}})
	srv := httptest.NewServer(w)
	defer srv.Close()

	p, _ := policy.Parse([]byte("log " + vkey + "\nwitness W1 " + cs.VerifierKey() + " " + srv.URL + "\nquorum W1\n"))
	c, _ := witnessclient.New(witnessclient.Config{Policy: p, Source: l, StateFile: filepath.Join(dir, "log", "witnessed")})
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	go c.Run(rctx)

	for i := range 3 {
		l.Append(ctx, sealog.Event{Kind: "example", Payload: map[string]int{"i": i}})
		c.Notify()
	}
	note, _ := c.Wait(ctx, 3) // the quorum's checkpoint covering 3 entries
	vd, _ := p.Check(note, nil)
	fmt.Println(vd.Checkpoint.Size, vd.Vouched[0].Witness.Name)
	// Output: 3 W1
}
