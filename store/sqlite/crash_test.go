package sqlite_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/store/sqlite"
	"github.com/sealog/sealog/store/storetest"
)

// childSpec is what the parent tells a child process.
type childSpec struct {
	Path, Acks, Key string
	Appenders       int
	For             time.Duration // 0: until killed
}

// crashChild appends to the log until it is killed: from spec.Appenders
// goroutines, single events, batches of three, and now and then an
// erasure of an earlier entry, recording every acknowledgement in
// spec.Acks (fsynced).
func crashChild(arg string) {
	var spec childSpec
	if err := json.Unmarshal([]byte(arg), &spec); err != nil {
		panic(err)
	}
	fail := func(err error) { fmt.Fprintln(os.Stderr, "crash child:", err); os.Exit(3) }
	ctx := context.Background()
	k, err := sealog.ParseKey(spec.Key)
	if err != nil {
		fail(err)
	}
	st, err := sqlite.Open(spec.Path, sqlite.Options{NoCreate: true, Key: k.VerifierKey()})
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
	var wg sync.WaitGroup
	for g := range spec.Appenders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(os.Getpid()), uint64(g)))
			for i := 0; ; i++ {
				ev := sealog.Event{Kind: "crash.test", Actor: fmt.Sprintf("g%d", g), Resource: fmt.Sprintf("doc/%d", i%50), Payload: map[string]any{"i": i, "pad": strings.Repeat("x", i%200)}}
				var rs []sealog.Receipt
				switch {
				case g%4 == 0 && i%20 == 1:
					h, err := l.Head(ctx)
					if err != nil {
						fail(err)
					}
					if h.Size == 0 {
						continue
					}
					r, err := l.Erase(ctx, rng.Uint64N(h.Size), "crash test")
					if errors.Is(err, sealog.ErrErased) || err != nil && strings.Contains(err.Error(), "erasure records cannot be erased") {
						continue // picked an entry that cannot be erased
					}
					if err != nil {
						fail(err)
					}
					rs = []sealog.Receipt{r}
				case i%10 == 0:
					if rs, err = l.AppendBatch(ctx, []sealog.Event{ev, ev, ev}); err != nil {
						fail(err)
					}
				default:
					r, err := l.Append(ctx, ev)
					if err != nil {
						fail(err)
					}
					rs = []sealog.Receipt{r}
				}
				for _, r := range rs {
					aw.Acks <- storetest.Ack{Seq: r.Seq, Leaf: r.LeafHash}
				}
			}
		}()
	}
	wg.Wait()
}

// TestCrash kills a writer (SIGKILL) at random moments, many times. After
// each kill the log opens, reads back with no gap and no fork, and holds
// every entry the writer acknowledged, with the leaf hash of its receipt;
// then the next writer goes on appending to it.
func TestCrash(t *testing.T) {
	rounds := 30
	if testing.Short() {
		rounds = 5
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	dir := t.TempDir()
	path, acksPath := filepath.Join(dir, "log.db"), filepath.Join(dir, "acks")
	skey, vkey := testkit.Keys("sqlite crash", "crash.example/log")
	st, err := sqlite.Open(path, sqlite.Options{Origin: "crash.example/log", Key: vkey})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	spec, _ := json.Marshal(childSpec{Path: path, Acks: acksPath, Key: skey, Appenders: 32})
	rng := rand.New(rand.NewPCG(3, 4))
	var last, erased int
	// On a loaded machine the kills can all come before an erasure
	// commits: then it goes on, up to twice the rounds, until one has.
	for round := 0; round < rounds || round < 2*rounds && erased == 0; round++ {
		cmd := testkit.Child(ctx, t, "crash", string(spec))
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		before := len(storetest.ReadAcks(t, acksPath))
		// Kill it once it has acknowledged something, a random while later.
		testkit.Eventually(t, 30*time.Second, fmt.Sprintf("round %d: the writer's first acknowledgement", round), func() bool {
			return len(storetest.ReadAcks(t, acksPath)) > before || len(exited) > 0
		})
		time.Sleep(time.Duration(rng.IntN(200)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		err := <-exited
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("round %d: the writer was not killed: %v\n%s", round, err, stderr.String())
		}

		st, err := sqlite.Open(path, sqlite.Options{Key: vkey})
		if err != nil {
			t.Fatalf("round %d: opening after the kill: %v", round, err)
		}
		leaves := storetest.CheckLog(t, ctx, st, vkey)
		acks := storetest.ReadAcks(t, acksPath)
		storetest.CheckAcks(t, leaves, acks)
		if len(leaves) < last {
			t.Fatalf("round %d: the log shrank from %d to %d entries", round, last, len(leaves))
		}
		last = len(leaves)
		erased = 0
		if err := st.DumpLines(ctx, func(line []byte) error {
			if p, err := format.ParseLine(line); err == nil && p.Erased {
				erased++
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("round %d: %d entries (%d erased), %d acknowledged", round, len(leaves), erased, len(acks))
	}
	if erased == 0 {
		t.Error("the writers erased nothing: the erasure path was not exercised")
	}
}
