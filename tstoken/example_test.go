package tstoken_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/tstoken"
)

// Check a stored timestamp against the checkpoint text of its tree size
// and the TSA roots the auditor trusts.
func ExampleVerify() {
	tsr, err := os.ReadFile(filepath.Join(vecDir, "log", "timestamps", "00000000000000000002.tsr"))
	if err != nil {
		log.Fatal(err)
	}
	pemRoots, _ := os.ReadFile(filepath.Join(vecDir, "tsa-root.pem"))
	roots, err := tstoken.ParseRoots(pemRoots)
	if err != nil {
		log.Fatal(err)
	}
	// The checkpoint text: origin, size, and the root of the first 2
	// entries, as the verifier rebuilds it from the entries.
	c, err := checkpoint.Parse([]byte("example.com/audit\n2\n" + vectorRoot2 + "\n"))
	if err != nil {
		log.Fatal(err)
	}
	st, err := tstoken.Verify(tsr, c.Text(), roots)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(st.TSA, st.Time)
	_, err = tstoken.Verify(tsr, []byte("example.com/audit\n3\n"+vectorRoot2+"\n"), roots)
	fmt.Println(err)
	// Output:
	// CN=sealog vector TSA 2026-11-21 08:42:13 +0000 UTC
	// the token's message imprint is not the checkpoint's hash
}

// vectorRoot2 is the root of the vector log's first 2 entries.
const vectorRoot2 = "iM8XNjHjpSkL8JNnfihmp+qQLFCHkKhmNfEMzxeX0qI="
