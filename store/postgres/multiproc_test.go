package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/store/postgres"
	"github.com/sealog/sealog/store/storetest"
)

// writerSpec is what the parent tells a writer child.
type writerSpec struct {
	DSN, Schema, Acks, Key string
	Appenders              int
	For                    time.Duration
}

// writerStats is what a writer child reports on stdout when it is done.
type writerStats struct {
	Acked, Failed               int64
	Batches, Entries, Conflicts int64
	FirstError                  string
}

// writerChild opens the log over its own PostgreSQL store, appends single
// events from spec.Appenders goroutines for spec.For, records each
// acknowledgement in spec.Acks (fsynced), and prints its stats.
func writerChild(arg string) {
	var spec writerSpec
	if err := json.Unmarshal([]byte(arg), &spec); err != nil {
		panic(err)
	}
	fail := func(err error) { fmt.Fprintln(os.Stderr, "writer:", err); os.Exit(3) }
	ctx := context.Background()
	k, err := sealog.ParseKey(spec.Key)
	if err != nil {
		fail(err)
	}
	st, err := postgres.Open(ctx, spec.DSN, postgres.Options{Schema: spec.Schema, NoCreate: true, Key: k.VerifierKey()})
	if err != nil {
		fail(err)
	}
	l, err := sealog.New(ctx, st, sealog.Options{Key: k})
	if err != nil {
		fail(err)
	}
	aw, err := storetest.NewAckWriter(spec.Acks)
	if err != nil {
		fail(err)
	}
	var (
		mu    sync.Mutex
		stats writerStats
		wg    sync.WaitGroup
	)
	deadline := time.Now().Add(spec.For)
	pid := os.Getpid()
	for g := range spec.Appenders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(deadline); i++ {
				ev := sealog.Event{Kind: "multi.write", Actor: fmt.Sprintf("p%d/g%d", pid, g), Resource: fmt.Sprintf("doc/%d", i%100), Payload: map[string]any{"i": i}}
				r, err := l.Append(ctx, ev)
				mu.Lock()
				if err != nil {
					stats.Failed++
					if stats.FirstError == "" {
						stats.FirstError = err.Error()
					}
				} else {
					stats.Acked++
				}
				mu.Unlock()
				if err == nil {
					aw.Acks <- storetest.Ack{Seq: r.Seq, Leaf: r.LeafHash}
				}
			}
		}()
	}
	wg.Wait()
	if err := aw.Close(); err != nil {
		fail(err)
	}
	ls := l.Stats()
	stats.Batches, stats.Entries, stats.Conflicts = ls.Batches, ls.Entries, ls.Conflicts
	if err := l.Close(); err != nil {
		fail(err)
	}
	json.NewEncoder(os.Stdout).Encode(stats)
}

// TestMultiProcess: three processes, each one Log over its own Store with
// 16 concurrent single-event appenders, append to one log at once. Then
// the log has no gap and no fork, and every entry any of them
// acknowledged is in it with the leaf hash of its receipt.
func TestMultiProcess(t *testing.T) {
	d := dsn(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	dur := 4 * time.Second
	if testing.Short() {
		dur = time.Second
	}
	// SEALOG_MULTIPROC_APPENDERS sets each child's appenders, to measure
	// the aggregate with more callers (docs/SCALING.md); 16 by default.
	appenders := 16
	fmt.Sscan(os.Getenv("SEALOG_MULTIPROC_APPENDERS"), &appenders)
	skey, vkey := testkit.Keys("multiproc", "multi.example/log")
	schema := newSchema(t, d)
	open(t, d, schema, postgres.Options{Origin: "multi.example/log", Key: vkey}).Close()

	const children = 3
	dir := t.TempDir()
	var (
		wg    sync.WaitGroup
		stats [children]writerStats
		outs  [children]strings.Builder
		errs  [children]strings.Builder
		rcs   [children]error
	)
	for i := range children {
		spec, _ := json.Marshal(writerSpec{DSN: d, Schema: schema, Acks: filepath.Join(dir, fmt.Sprint("acks", i)), Key: skey, Appenders: appenders, For: dur})
		cmd := testkit.Child(ctx, t, "writer", string(spec))
		cmd.Stdout, cmd.Stderr = &outs[i], &errs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() { defer wg.Done(); rcs[i] = cmd.Wait() }()
	}
	wg.Wait()
	var acks []storetest.Ack
	var total writerStats
	for i := range children {
		if rcs[i] != nil {
			t.Fatalf("writer %d: %v\n%s", i, rcs[i], errs[i].String())
		}
		if err := json.Unmarshal([]byte(outs[i].String()), &stats[i]); err != nil {
			t.Fatalf("writer %d printed %q: %v", i, outs[i].String(), err)
		}
		s := stats[i]
		t.Logf("writer %d: %d acknowledged, %d failed, %d batches, %d conflicts (%.2f per batch)", i, s.Acked, s.Failed, s.Batches, s.Conflicts, float64(s.Conflicts)/float64(max(s.Batches, 1)))
		if s.Failed > 0 {
			t.Errorf("writer %d: %d appends failed; the first: %s", i, s.Failed, s.FirstError)
		}
		a := storetest.ReadAcks(t, filepath.Join(dir, fmt.Sprint("acks", i)))
		if int64(len(a)) != s.Acked {
			t.Fatalf("writer %d acknowledged %d appends but recorded %d", i, s.Acked, len(a))
		}
		if s.Acked == 0 {
			t.Fatalf("writer %d appended nothing", i)
		}
		acks = append(acks, a...)
		total.Acked += s.Acked
		total.Batches += s.Batches
		total.Conflicts += s.Conflicts
	}

	st := open(t, d, schema, postgres.Options{ReadOnly: true})
	defer st.Close()
	leaves := storetest.CheckLog(t, ctx, st, vkey)
	storetest.CheckAcks(t, leaves, acks)
	checkTables(t, d, schema, uint64(len(leaves)))
	if uint64(len(leaves)) != uint64(total.Acked) {
		t.Errorf("the log has %d entries, the writers acknowledged %d (and none failed)", len(leaves), total.Acked)
	}
	t.Logf("%d entries from %d processes in %s: %.0f entries/s; %d batches, %d conflicts (%.2f per batch)",
		len(leaves), children, dur, float64(len(leaves))/dur.Seconds(), total.Batches, total.Conflicts, float64(total.Conflicts)/float64(total.Batches))
}
