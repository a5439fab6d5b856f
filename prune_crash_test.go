package sealog

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/store/file"
	"github.com/sealog/sealog/verify"
)

// pruneChild appends and prunes until killed. spec is "dir|skey".
func pruneChild(spec string) {
	dir, skey, _ := strings.Cut(spec, "|")
	k, err := ParseKey(skey)
	if err != nil {
		panic(err)
	}
	l, err := Open(dir, Options{Key: k, File: file.Options{SegmentSize: 2048}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(3)
	}
	ctx := context.Background()
	for i := 0; ; i++ {
		evs := make([]Event, 3)
		for j := range evs {
			evs[j] = Event{Kind: "prune.crash", Payload: map[string]any{"i": i, "pad": strings.Repeat("z", 50)}}
		}
		if _, err := l.AppendBatch(ctx, evs); err != nil {
			fmt.Fprintln(os.Stderr, "child append:", err)
			os.Exit(3)
		}
		if i%7 == 6 {
			h, _ := l.Head(ctx)
			if _, err := l.Prune(ctx, h.Size/2); err != nil && !strings.Contains(err.Error(), "nothing to prune") {
				fmt.Fprintln(os.Stderr, "child prune:", err)
				os.Exit(3)
			}
		}
	}
}

// TestPruneCrash kills a process that appends and prunes, at random
// moments (SIGKILL), and checks after each kill that the log reopens,
// and verifies, pruned or not, with its prune record.
func TestPruneCrash(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir() + "/log"
	skey, vkey := testkit.Keys("prune-crash", testkit.Origin)
	k, _ := ParseKey(skey)
	rnd := rand.New(rand.NewPCG(15, 3161))
	pruned := 0
	for round := 0; round < 12; round++ {
		cmd := testkit.Child(ctx, t, "prune", dir+"|"+skey)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(100+rnd.IntN(400)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("round %d: the child ended by itself: %v\n%s", round, cmd.ProcessState, stderr.String())
		}
		// The writer's open recovers (and finishes a prune cut short).
		l, err := Open(dir, Options{Key: k, File: file.Options{SegmentSize: 2048}})
		if err != nil {
			t.Fatalf("round %d: reopening after the kill: %v", round, err)
		}
		l.Close()
		rep, err := verify.Verify(ctx, verify.Dir(dir), verify.Options{Key: vkey})
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Valid {
			t.Fatalf("round %d: after a kill and a reopen: %s %+v", round, rep.Verdict, rep.Problems)
		}
		if rep.Pruned != nil {
			if rep.Pruned.Status != "ok" {
				t.Fatalf("round %d: pruned %+v", round, rep.Pruned)
			}
			pruned++
		}
	}
	if pruned == 0 {
		t.Fatal("no round pruned anything: the test did not test pruning")
	}
}
