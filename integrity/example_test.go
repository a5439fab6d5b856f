package integrity_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/integrity"
)

// Each start checks what was appended since the last start, and that
// nothing before it was rewritten or cut off.
func Example() {
	dir, _ := os.MkdirTemp("", "integrity-example-")
	defer os.RemoveAll(dir)
	skey, _, _ := sealog.GenerateKey("example.com/audit")
	key, _ := sealog.ParseKey(skey)
	logDir, state := filepath.Join(dir, "audit"), filepath.Join(dir, "audit.state")

	for run := range 3 {
		var rep integrity.Report
		l, err := sealog.Open(logDir, sealog.Options{Key: key, Check: func(ctx context.Context, l *sealog.Log) (err error) {
			rep, err = integrity.Check(ctx, l, integrity.Options{StateFile: state})
			return err
		}})
		if err != nil {
			log.Fatal(err) // a log that fails the check is not opened
		}
		fmt.Printf("run %d: checked entries %d..%d, consistent with the %d verified before\n", run, rep.From, rep.Size, rep.TrustedSize)
		for range 5 {
			if _, err := l.Append(context.Background(), sealog.Event{Kind: "app.event"}); err != nil {
				log.Fatal(err)
			}
		}
		l.Close()
	}
	// Output:
	// run 0: checked entries 0..0, consistent with the 0 verified before
	// run 1: checked entries 0..5, consistent with the 0 verified before
	// run 2: checked entries 5..10, consistent with the 5 verified before
}
