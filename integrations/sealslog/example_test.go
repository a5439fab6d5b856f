package sealslog_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/integrations/sealslog"
)

// Audit records go to a sealed log and, as before, to standard output.
func Example() {
	dir, _ := os.MkdirTemp("", "sealslog-example-")
	defer os.RemoveAll(dir)
	skey, _, _ := sealog.GenerateKey("example.com/audit")
	key, _ := sealog.ParseKey(skey)
	auditLog, err := sealog.Open(filepath.Join(dir, "audit"), sealog.Options{Key: key})
	if err != nil {
		log.Fatal(err)
	}
	defer auditLog.Close()

	// The two lines: a handler over the log, teeing to the usual handler.
	text := slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: dropTime})
	logger := slog.New(sealslog.New(auditLog, &sealslog.Options{ActorKey: "user", Next: text}))

	logger.Info("invoice.approve", "user", "alice@example.com", slog.Group("invoice", "id", 42, "amount_eur", 1200.5))
	logger.Debug("cache.miss", "key", "k1") // below Info: neither sealed nor printed

	for e, err := range auditLog.Entries(context.Background(), 0, 10) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("entry %d: %s by %s\n", e.Seq, e.Kind, e.Actor)
	}
	// Output:
	// level=INFO msg=invoice.approve user=alice@example.com invoice.id=42 invoice.amount_eur=1200.5
	// entry 0: invoice.approve by alice@example.com
}

func dropTime(groups []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey && len(groups) == 0 {
		return slog.Attr{}
	}
	return a
}
