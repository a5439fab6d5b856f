package postgres_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/store/postgres"
	"github.com/sealog/sealog/store/storetest"
)

// restartServer restarts the local PostgreSQL cluster, as an operator
// would, or skips the test (fails it under CI) if that is not possible.
func restartServer(t *testing.T) {
	t.Helper()
	// No other package's test may use the server while it restarts (go
	// test runs packages in parallel).
	testkit.PostgresExclusive(t)
	skip := func(why string) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("cannot restart PostgreSQL (%s), and CI=true, so this test must run", why)
		}
		t.Skipf("cannot restart PostgreSQL: %s (with CI=true this fails)", why)
	}
	if os.Getenv("SEALOG_TEST_POSTGRES") != "" {
		skip("SEALOG_TEST_POSTGRES names a server this test does not manage")
	}
	versions, err := os.ReadDir("/etc/postgresql")
	if err != nil || len(versions) != 1 {
		skip("no single cluster version in /etc/postgresql")
	}
	if _, err := exec.LookPath("pg_ctlcluster"); err != nil {
		skip("pg_ctlcluster is not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "pg_ctlcluster", "--skip-systemctl-redirect", versions[0].Name(), "main", "restart").CombinedOutput()
	if err != nil {
		t.Fatalf("pg_ctlcluster restart: %v\n%s", err, out)
	}
}

// TestServerRestart restarts the PostgreSQL server while 16 appenders
// append through one Log. Appends in flight fail with an error or
// succeed; afterwards the same Log, never reopened, appends again; every
// acknowledged entry is in the log, which has no gap and no fork.
func TestServerRestart(t *testing.T) {
	d := dsn(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	skey, vkey := testkit.Keys("restart", "restart.example/log")
	k, err := sealog.ParseKey(skey)
	if err != nil {
		t.Fatal(err)
	}
	schema := newSchema(t, d)
	st := open(t, d, schema, postgres.Options{Origin: k.Origin(), Key: vkey})
	l, err := sealog.New(ctx, st, sealog.Options{Key: k, Logger: testkit.Logger(t), CommitTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	var (
		mu        sync.Mutex
		acks      []storetest.Ack
		failures  []error
		afterAcks atomic.Int64 // acknowledged after the restart
		restarted atomic.Bool
		stop      = make(chan struct{})
		wg        sync.WaitGroup
	)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				r, err := l.Append(ctx, sealog.Event{Kind: "restart.test", Actor: "g" + string(rune('a'+g)), Payload: map[string]int{"i": i}})
				mu.Lock()
				if err != nil {
					failures = append(failures, err)
				} else {
					acks = append(acks, storetest.Ack{Seq: r.Seq, Leaf: r.LeafHash})
				}
				mu.Unlock()
				if err != nil {
					time.Sleep(20 * time.Millisecond) // the server is down: do not spin
				} else if restarted.Load() {
					afterAcks.Add(1)
				}
			}
		}()
	}
	acked := func() int { mu.Lock(); defer mu.Unlock(); return len(acks) }
	testkit.Eventually(t, 30*time.Second, "appends before the restart", func() bool { return acked() >= 200 })
	before := acked()
	restartServer(t)
	restarted.Store(true)
	testkit.Eventually(t, 60*time.Second, "appends after the restart, on the same Log", func() bool { return afterAcks.Load() >= 500 })
	close(stop)
	wg.Wait()

	t.Logf("%d appends acknowledged (%d before the restart), %d failed", len(acks), before, len(failures))
	var shown int
	for _, err := range failures {
		if errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("an append timed out: %v", err)
		}
		if shown < 3 && !strings.Contains(err.Error(), "sealog") {
			t.Errorf("an append failed with an error that does not say where it comes from: %v", err)
		}
		if shown < 3 {
			t.Logf("failed append: %v", err)
			shown++
		}
	}
	leaves := storetest.CheckLog(t, ctx, st, vkey)
	storetest.CheckAcks(t, leaves, acks)
	checkTables(t, d, schema, uint64(len(leaves)))
	t.Logf("the log has %d entries, %d acknowledged", len(leaves), len(acks))
}
