package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/store/sqlite"
)

// TestWALBounded: with the checkpointer copying the WAL into the file in
// the background, the WAL stays small under a steady load of appends and
// reads (it is reused from its start once checkpointed), and all of it is
// in the file once the Store is closed.
func TestWALBounded(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	k := benchKey(t)
	path := filepath.Join(t.TempDir(), "log.db")
	st := mustOpen(t, path, sqlite.Options{Origin: k.Origin(), Key: k.VerifierKey()})
	l, err := sealog.New(ctx, st, sealog.Options{Key: k})
	if err != nil {
		t.Fatal(err)
	}
	n := 30000
	if testing.Short() {
		n = 5000
	}
	stop := make(chan struct{})
	go func() { // a reader, as a verifier or a query would be
		for {
			select {
			case <-stop:
				return
			default:
				st.Head(ctx)
			}
		}
	}()
	rate := appendN(t, l, n, 64)
	close(stop)
	fi, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	db, _ := os.Stat(path)
	t.Logf("%d entries at %.0f/s: the file is %d MB, its WAL %d MB", n, rate, db.Size()>>20, fi.Size()>>20)
	if fi.Size() > 2*16<<20 {
		t.Errorf("the WAL grew to %d MB", fi.Size()>>20)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if got := queryInt(t, path, `SELECT count(*) FROM entries`); got != int64(n) {
		t.Errorf("the file has %d entries, want %d", got, n)
	}
}
