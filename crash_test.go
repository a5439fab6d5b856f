package sealog

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/store/file"
	"github.com/sealog/sealog/verify"
)

// The crash test runs a child process (this test binary, re-executed) that
// appends from many goroutines and records every acknowledged append in a
// file it fsyncs, and kills it with SIGKILL at random moments. After each
// kill the log must reopen, verify, and hold every acknowledged entry
// unchanged.

func TestMain(m *testing.M) {
	testkit.RunChild(map[string]func(string){"crash": crashChild, "prune": pruneChild})
	code := m.Run()
	if bigLog != nil {
		bigLog.Close()
		os.RemoveAll(bigDir)
	}
	os.Exit(code)
}

// crashChild appends until killed. spec is "dir|ackfile|skey".
func crashChild(spec string) {
	parts := strings.SplitN(spec, "|", 3)
	dir, ackPath, skey := parts[0], parts[1], parts[2]
	k, err := ParseKey(skey)
	if err != nil {
		panic(err)
	}
	l, err := Open(dir, Options{Key: k, File: file.Options{SegmentSize: 64 << 10, Compress: true}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(3)
	}
	ack, err := os.OpenFile(ackPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		panic(err)
	}
	acks := make(chan Receipt, 4096)
	go func() { // record acknowledgements, fsyncing each group
		w := bufio.NewWriter(ack)
		for r := range acks {
			fmt.Fprintf(w, "%d %s\n", r.Seq, hex.EncodeToString(r.LeafHash[:]))
			for more := true; more; {
				select {
				case r := <-acks:
					fmt.Fprintf(w, "%d %s\n", r.Seq, hex.EncodeToString(r.LeafHash[:]))
				default:
					more = false
				}
			}
			w.Flush()
			ack.Sync()
		}
	}()
	var wg sync.WaitGroup
	for g := 0; g < 32; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				ev := Event{Kind: "crash.test", Actor: fmt.Sprintf("g%d", g), Payload: map[string]any{"i": i, "pad": strings.Repeat("x", i%200)}}
				if i%10 == 0 {
					rs, err := l.AppendBatch(context.Background(), []Event{ev, ev, ev})
					if err != nil {
						fmt.Fprintln(os.Stderr, "child append:", err)
						os.Exit(4)
					}
					for _, r := range rs {
						acks <- r
					}
					continue
				}
				r, err := l.Append(context.Background(), ev)
				if err != nil {
					fmt.Fprintln(os.Stderr, "child append:", err)
					os.Exit(4)
				}
				acks <- r
			}
		}()
	}
	wg.Wait()
}

func TestCrashRecovery(t *testing.T) {
	rounds := 60
	if testing.Short() {
		rounds = 10
	}
	dir := filepath.Join(t.TempDir(), "log")
	ackPath := filepath.Join(t.TempDir(), "acks")
	skey, _ := testkit.Keys("crash", "crash.example/log")
	k, err := ParseKey(skey)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var lastSize uint64
	for round := 0; round < rounds; round++ {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		cmd := testkit.Child(ctx, t, "crash", dir+"|"+ackPath+"|"+skey)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(20+rng.IntN(250)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("round %d: child was not killed: %v\n%s", round, err, stderr.String())
		}
		cancel()

		l, err := Open(dir, Options{Key: k, Logger: testkit.Logger(t)})
		if err != nil {
			t.Fatalf("round %d: reopening after the kill: %v", round, err)
		}
		acked := readAcks(t, ackPath)
		h, err := l.Head(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		size := h.Size
		// Read the whole log back (each line is checked against the tree)
		// and compare every acknowledged entry with its receipt.
		seen := 0
		for e, err := range l.Entries(context.Background(), 0, size) {
			if err != nil {
				t.Fatalf("round %d: reading the log: %v", round, err)
			}
			if leaf, ok := acked[e.Seq]; ok {
				if hex.EncodeToString(e.LeafHash[:]) != leaf {
					t.Fatalf("round %d: acknowledged entry %d changed", round, e.Seq)
				}
				seen++
			}
		}
		if seen != len(acked) {
			for seq := range acked {
				if seq >= size {
					t.Fatalf("round %d: acknowledged entry %d is missing (the log has %d entries)", round, seq, size)
				}
			}
			t.Fatalf("round %d: %d acknowledged entries, %d found", round, len(acked), seen)
		}
		if size < lastSize {
			t.Fatalf("round %d: the log shrank from %d to %d entries", round, lastSize, size)
		}
		lastSize = size
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		rep, err := verify.Verify(context.Background(), verify.Dir(dir), verify.Options{Key: k.VerifierKey()})
		if err != nil || !rep.Valid || rep.Entries != size {
			t.Fatalf("round %d: verify after recovery: %v %+v", round, err, rep)
		}
		t.Logf("round %d: %d entries, %d acknowledged", round, size, len(acked))
	}
	if lastSize == 0 {
		t.Fatal("the child never appended anything")
	}
}

func readAcks(t *testing.T, path string) map[uint64]string {
	t.Helper()
	out := map[uint64]string{}
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return out
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		seqS, leaf, ok := strings.Cut(sc.Text(), " ")
		seq, err := strconv.ParseUint(seqS, 10, 64)
		if !ok || err != nil || len(leaf) != 64 {
			continue // the last line, torn by the kill
		}
		out[seq] = leaf
	}
	return out
}
