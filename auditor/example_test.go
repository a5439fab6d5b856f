package auditor_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/auditor"
	"github.com/sealog/sealog/internal/logfixture"
)

// An auditor audits a log once, the log grows, and it audits it again:
// the second audit proves the log extends the checkpoint trusted at the
// first.
func ExampleAuditor_RunOnce() {
	tmp, _ := os.MkdirTemp("", "auditor-example")
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, "log")
	logfixture.Make(dir, logfixture.Phase{Seed: "ex", Batches: [][]sealog.Event{logfixture.Events(0, 10, "ex")}})
	_, vkey := logfixture.Keys() // the log's verifier key, from the auditor's own records

	a, err := auditor.New(auditor.Config{
		Logs:  []auditor.Log{{Name: dir, Key: vkey}},
		State: filepath.Join(tmp, "state.json"),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer a.Close()
	r := a.RunOnce(context.Background())[0]
	fmt.Println(r.Verdict, r.Size)

	logfixture.Make(dir, logfixture.Phase{Seed: "ex2", Batches: [][]sealog.Event{logfixture.Events(10, 5, "ex")}})
	r = a.RunOnce(context.Background())[0]
	fmt.Println(r.Verdict, r.Size)
	// Output:
	// valid 10
	// valid 15
}

// A webhook receiver checks the signature over the raw body before it
// believes anything in it.
func ExampleCheckSignature() {
	secret := []byte("shared with the auditor")
	body := []byte(`{"version":"sealog-audit/v1","verdict":"forked"}`)
	header := auditor.Sign(secret, body) // what the auditor sends as Sealog-Signature

	fmt.Println(auditor.CheckSignature(secret, body, header))
	fmt.Println(auditor.CheckSignature(secret, []byte(`{"version":"sealog-audit/v1","verdict":"valid"}`), header))
	// Output:
	// true
	// false
}
