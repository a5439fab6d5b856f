package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/internal/testkit"
	storeopen "github.com/sealog/sealog/store/open"
	"github.com/sealog/sealog/store/postgres"
	"github.com/sealog/sealog/verify"
)

// leaseHolders returns the backends that hold a granted advisory lock,
// and how many wait for one.
func leaseHolders(t *testing.T, ctx context.Context, dsn string) (held []int32, waiting int) {
	t.Helper()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT pid, granted FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var pid int32
		var granted bool
		if err := rows.Scan(&pid, &granted); err != nil {
			t.Fatal(err)
		}
		if granted {
			held = append(held, pid)
		} else {
			waiting++
		}
	}
	return held, waiting
}

// The writer lease (lease.go): two Logs over their own Stores append to
// one schema at once, and the log has every entry once, in order; a
// Store gives the lease back once it stops appending; one whose lease
// session is killed goes on appending, and so does the other; with
// WriterLease < 0 no lease is taken.
func TestWriterLease(t *testing.T) {
	d := dsn(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	skey, vkey := testkit.Keys("lease", "lease.example/log")
	k, err := sealog.ParseKey(skey)
	if err != nil {
		t.Fatal(err)
	}
	schema := newSchema(t, d)
	opts := postgres.Options{Origin: "lease.example/log", Key: vkey}
	logs := make([]*sealog.Log, 2)
	for i := range logs {
		st := open(t, d, schema, opts)
		if logs[i], err = sealog.New(ctx, st, sealog.Options{Key: k, Rand: testkit.Rand(fmt.Sprint("lease", i))}); err != nil {
			t.Fatal(err)
		}
		defer logs[i].Close()
	}
	appendAll := func(what string, n int) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, 2*8)
		for i, l := range logs {
			for g := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for j := range n {
						if _, err := l.Append(ctx, sealog.Event{Kind: what, Actor: fmt.Sprintf("w%d/g%d", i, g), Payload: map[string]int{"j": j}}); err != nil {
							errs <- err
							return
						}
					}
				}()
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("%s: %v", what, err)
		}
	}
	appendAll("both", 40)
	testkit.Eventually(t, 10*time.Second, "the lease given back once the appends stop", func() bool {
		held, _ := leaseHolders(t, ctx, d)
		return len(held) == 0
	})

	// The holder's session is killed while it holds the lease, with
	// appends going on.
	stop := make(chan struct{})
	bg := make(chan error, 1)
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				bg <- nil
				return
			default:
			}
			if _, err := logs[0].Append(ctx, sealog.Event{Kind: "holder", Payload: map[string]int{"i": i}}); err != nil {
				bg <- err
				return
			}
		}
	}()
	var held []int32
	testkit.Eventually(t, 10*time.Second, "a lease held while appending", func() bool {
		held, _ = leaseHolders(t, ctx, d)
		return len(held) == 1
	})
	if err := execSQL(ctx, d, `SELECT pg_terminate_backend($1)`, held[0]); err != nil {
		t.Fatal(err)
	}
	appendAll("after the kill", 20)
	close(stop)
	if err := <-bg; err != nil {
		t.Fatalf("appending while the lease's session was killed: %v", err)
	}

	st := open(t, d, schema, postgres.Options{WriterLease: -1})
	defer st.Close()
	nl, err := sealog.New(ctx, st, sealog.Options{Key: k, Rand: testkit.Rand("no lease")})
	if err != nil {
		t.Fatal(err)
	}
	defer nl.Close()
	testkit.Eventually(t, 10*time.Second, "no lease held", func() bool {
		held, _ := leaseHolders(t, ctx, d)
		return len(held) == 0
	})
	if _, err := nl.Append(ctx, sealog.Event{Kind: "no lease"}); err != nil {
		t.Fatal(err)
	}
	if held, _ := leaseHolders(t, ctx, d); len(held) != 0 {
		t.Fatalf("a Store with WriterLease < 0 holds an advisory lock: %v", held)
	}

	h, err := nl.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	holder := 0
	for _, err := range nl.Query(ctx, sealog.Query{Kind: "holder"}) {
		if err != nil {
			t.Fatal(err)
		}
		holder++
	}
	if want := uint64(2*8*40 + holder + 2*8*20 + 1); h.Size != want {
		t.Fatalf("the log holds %d entries, want %d (%d by the appender whose lease was killed)", h.Size, want, holder)
	}
	rep, err := verify.Verify(ctx, storeopen.Source(ctx, st, "postgres"), verify.Options{Key: vkey})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Valid || rep.Entries != h.Size {
		t.Fatalf("the log after the appends: valid=%v entries=%d problems=%+v", rep.Valid, rep.Entries, rep.Problems)
	}
}

// A writer lease held by a session that no longer appends (a frozen
// process keeps its connection, and its lock, alive) does not stall the
// others: they wait a bounded time for it, then append without it.
func TestWriterLeaseHeldByAStrangerDoesNotStall(t *testing.T) {
	d := dsn(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	l, _, _ := strangerHoldsLease(t, ctx, d, "lease stranger", postgres.Options{})
	for i := range 20 {
		actx, acancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := l.Append(actx, sealog.Event{Kind: "while frozen", Payload: map[string]int{"i": i}})
		acancel()
		if err != nil {
			t.Fatalf("append %d while another session holds the lease: %v", i, err)
		}
	}
	if held, _ := leaseHolders(t, ctx, d); len(held) != 1 {
		t.Fatalf("advisory locks held: %v, want only the stranger's", held)
	}
}

// TestWriterLeaseBacksOff: while a stranger holds the lease's lock, a
// Store waits for it less and less often (twice as long a pause after
// each wait in vain), so that appends are not stalled by a wait every
// pause; a fixed pause made it wait about once per 30 ms here, some 50
// times in 1.5 s.
func TestWriterLeaseBacksOff(t *testing.T) {
	defer postgres.ShortLeaseSkip(10 * time.Millisecond)()
	d := dsn(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	// A lease of 2 ms: each wait for it lasts 20 ms (leaseWaits of them).
	l, st, frozen := strangerHoldsLease(t, ctx, d, "lease backoff", postgres.Options{WriterLease: 2 * time.Millisecond})
	schema := st.Schema()
	n := 0
	for start := time.Now(); time.Since(start) < 1500*time.Millisecond; n++ {
		if _, err := l.Append(ctx, sealog.Event{Kind: "while frozen", Payload: map[string]int{"i": n}}); err != nil {
			t.Fatalf("append %d: %v", n, err)
		}
	}
	// Pauses of 10, 20, 40, ... 1280 ms after waits of 20 ms: at most
	// about 9 waits in 1.5 s.
	if m := postgres.LeaseMisses(st); m < 2 || m > 12 {
		t.Fatalf("%d waits for the lease in vain during %d appends in 1.5 s; want 2 to 12 (a pause that doubles)", m, n)
	}
	// Once the stranger lets go, the Store takes the lease again, and
	// its count of waits in vain starts over.
	if _, err := frozen.Exec(ctx, `SELECT pg_advisory_unlock(hashtextextended($1, 0))`, "sealog writer lease "+schema); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 10*time.Second, "the lease taken again", func() bool {
		if _, err := l.Append(ctx, sealog.Event{Kind: "after"}); err != nil {
			t.Fatal(err)
		}
		return postgres.LeaseMisses(st) == 0
	})
}

// strangerHoldsLease opens a Log on a new schema with opts and has
// another session (the returned connection) take the lock the Store's
// writer lease names, as a frozen process would hold it. All are closed
// when the test ends.
func strangerHoldsLease(t *testing.T, ctx context.Context, d, seed string, opts postgres.Options) (*sealog.Log, *postgres.Store, *pgx.Conn) {
	t.Helper()
	skey, vkey := testkit.Keys(seed, "lease.example/log")
	k, err := sealog.ParseKey(skey)
	if err != nil {
		t.Fatal(err)
	}
	schema := newSchema(t, d)
	opts.Origin, opts.Key = "lease.example/log", vkey
	st := open(t, d, schema, opts)
	l, err := sealog.New(ctx, st, sealog.Options{Key: k, Rand: testkit.Rand(seed)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	frozen, err := pgx.Connect(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { frozen.Close(context.Background()) })
	if _, err := frozen.Exec(ctx, `SELECT pg_advisory_lock(hashtextextended($1, 0))`, "sealog writer lease "+schema); err != nil {
		t.Fatal(err)
	}
	return l, st, frozen
}
