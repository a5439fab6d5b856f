package sealog

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/store/file"
	"github.com/sealog/sealog/verify"
)

// The crash test runs a child process (this test binary, re-executed) that
// appends from many goroutines and records every acknowledged append in a
// file it fsyncs, and kills it with SIGKILL at random moments. After each
// kill the log must reopen, verify, and hold every acknowledged entry
// unchanged. It runs in several modes:
//
//   - kill: the plain kill loop;
//   - rotation: segments of 10 MiB, so that the writer often moves to a
//     new segment (made from the preallocated spare: all zeros, a run
//     longer than any line) shortly before it is killed;
//   - compression: small segments, compressed as they are sealed, their
//     plain files removed at once;
//   - readers: while the writer appends, is killed and recovers, readers
//     verify the log and read it through a read-only Log, over and over;
//     none may see a break that is not there.
//
// SEALOG_CRASH_ROUNDS sets the rounds per mode (docs/RELIABILITY.md).

func TestMain(m *testing.M) {
	testkit.RunChild(map[string]func(string){"crash": crashChild, "verifier": verifierChild, "prune": pruneChild})
	code := m.Run()
	if bigLog != nil {
		bigLog.Close()
		os.RemoveAll(bigDir)
	}
	os.Exit(code)
}

// crashMode is one way of running the kill loop.
type crashMode struct {
	name      string
	segment   int64
	compress  bool
	keepPlain time.Duration
	readers   bool
	rotations bool          // the mode must see the writer move to new segments
	minLife   time.Duration // the child is killed after minLife plus up to life
	life      time.Duration
}

var crashModes = []crashMode{
	{name: "kill", segment: 1 << 20, minLife: 20 * time.Millisecond, life: 250 * time.Millisecond},
	{name: "rotation", segment: 10 << 20, rotations: true, minLife: 100 * time.Millisecond, life: 700 * time.Millisecond},
	{name: "compression", segment: 64 << 10, compress: true, keepPlain: time.Millisecond, minLife: 20 * time.Millisecond, life: 400 * time.Millisecond},
	{name: "readers", segment: 256 << 10, compress: true, minLife: 50 * time.Millisecond, life: 400 * time.Millisecond, readers: true},
}

func (m crashMode) fileOptions() file.Options {
	return file.Options{SegmentSize: m.segment, Compress: m.compress, KeepPlain: m.keepPlain}
}

// crashChild appends until killed. spec is "dir|ackfile|skey|mode".
func crashChild(spec string) {
	parts := strings.SplitN(spec, "|", 4)
	dir, ackPath, skey, modeName := parts[0], parts[1], parts[2], parts[3]
	k, err := ParseKey(skey)
	if err != nil {
		panic(err)
	}
	var mode crashMode
	for _, m := range crashModes {
		if m.name == modeName {
			mode = m
		}
	}
	l, err := Open(dir, Options{Key: k, File: mode.fileOptions()})
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

// crashRounds is the number of rounds per mode.
func crashRounds(t *testing.T) int {
	if s := os.Getenv("SEALOG_CRASH_ROUNDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("SEALOG_CRASH_ROUNDS=%q: want a positive number", s)
		}
		return n
	}
	if testing.Short() {
		return 5
	}
	return 15
}

func TestCrashRecovery(t *testing.T) {
	for i, mode := range crashModes {
		t.Run(mode.name, func(t *testing.T) { runCrashMode(t, mode, uint64(i)) })
	}
}

// crashStats are a mode's figures, for docs/RELIABILITY.md.
type crashStats struct {
	rounds, rotations, compressed int
	spareKills                    int          // kills while the active segment was the spare
	checked                       int          // acknowledged entries checked, over all rounds
	verifies, reads               atomic.Int64 // reader passes that completed
	badVerifies, badReads         int          // ... and of those, the ones that saw a break
}

func runCrashMode(t *testing.T, mode crashMode, seed uint64) {
	rounds := crashRounds(t)
	dir := filepath.Join(t.TempDir(), "log")
	acks := &ackLog{path: filepath.Join(t.TempDir(), "acks")}
	skey, _ := testkit.Keys("crash", "crash.example/log")
	k, err := ParseKey(skey)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2+seed))
	var st crashStats
	stopReaders := func() {}
	if mode.readers {
		stopReaders = startCrashReaders(t, dir, k, &st)
	}
	var lastSize uint64
	lastSegs := 1
	// A loaded machine (a race build beside other tests) can use up the
	// rounds before a kill lands after a rotation: the rotation mode then
	// goes on, up to three times the rounds, until one does.
	more := func(round int) bool {
		return round < rounds || round < 3*rounds && mode.rotations && st.spareKills == 0
	}
	for round := 0; more(round); round++ {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		cmd := testkit.Child(ctx, t, "crash", dir+"|"+acks.path+"|"+skey+"|"+mode.name)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if mode.rotations && round%2 == 1 {
			// Every other round of the rotation mode waits for the writer
			// to move to a new segment and kills it soon after, so that
			// the case the mode is for (a crash just after a rotation
			// into the spare) is met whatever the machine's speed.
			for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
				if segs, _, err := layout.Segments(dir); err == nil && len(segs) > lastSegs {
					time.Sleep(time.Duration(rng.Int64N(int64(20 * time.Millisecond))))
					break
				}
			}
		} else {
			time.Sleep(mode.minLife + time.Duration(rng.Int64N(int64(mode.life))))
		}
		cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("round %d: child was not killed: %v\n%s", round, err, stderr.String())
		}
		cancel()
		if segs, _, err := layout.Segments(dir); err == nil {
			st.rotations += max(0, len(segs)-lastSegs)
			lastSegs = len(segs)
			// An active segment of exactly the segment size was the
			// spare (zeros past what was written): the kill came after a
			// rotation into it, before the segment filled.
			// (A child killed before it made its first segment leaves
			// none.)
			if len(segs) > 1 {
				if fi, err := os.Stat(segs[len(segs)-1].Path); err == nil && fi.Size() == mode.segment {
					st.spareKills++
				}
			}
		}

		l, err := Open(dir, Options{Key: k, Logger: testkit.Logger(t), File: mode.fileOptions()})
		if err != nil {
			t.Fatalf("round %d: reopening after the kill: %v", round, err)
		}
		// The entries acknowledged before lastSize were checked in
		// earlier rounds, and the log may not shrink below it: this
		// round checks the new acknowledgements.
		acked := acks.readNew(t)
		size := checkAcked(t, fmt.Sprintf("round %d", round), l, acked)
		if size < lastSize {
			t.Fatalf("round %d: the log shrank from %d to %d entries", round, lastSize, size)
		}
		lastSize = size
		st.checked += len(acked)
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		ctx, cancel = context.WithTimeout(context.Background(), time.Minute)
		rep, err := verify.Verify(ctx, verify.Dir(dir), verify.Options{Key: k.VerifierKey()})
		cancel()
		if err != nil || !rep.Valid || rep.Entries != size {
			t.Fatalf("round %d: verify after recovery: %v %+v (the log is kept in %s)", round, err, rep, keepLog(t, dir, mode.name))
		}
		t.Logf("round %d: %d entries, %d newly acknowledged", round, size, len(acked))
		st.rounds++
	}
	stopReaders()
	if lastSize == 0 {
		t.Fatal("the child never appended anything")
	}
	// At the end, every acknowledged entry once more.
	l, err := Open(dir, Options{Key: k, Logger: testkit.Logger(t), File: mode.fileOptions()})
	if err != nil {
		t.Fatalf("reopening at the end: %v", err)
	}
	all := (&ackLog{path: acks.path}).readNew(t)
	checkAcked(t, "at the end", l, all)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(filepath.Join(dir, layout.SegmentsDir))
	for _, e := range ents {
		if _, comp, ok := layout.ParseSegmentName(e.Name()); ok && comp {
			st.compressed++
		}
	}
	if mode.rotations && st.spareKills == 0 {
		t.Errorf("no kill came after a rotation into the spare segment: the rotation mode did not test what it is for")
	}
	if mode.compress && st.compressed == 0 {
		t.Errorf("no segment was compressed: the mode did not test compression")
	}
	t.Logf("mode %s: %d rounds, %d acknowledged entries checked (each after the kill that followed it, and all %d again at the end), 0 lost; %d entries at the end, %d segments made (rotations, and new segments after a cut), %d kills with the spare as the active segment, %d compressed segments; readers: %d verifications (%d saw a break), %d full reads (%d failed)",
		mode.name, st.rounds, st.checked, len(all), lastSize, st.rotations, st.spareKills, st.compressed, st.verifies.Load(), st.badVerifies, st.reads.Load(), st.badReads)
}

// keepLog copies a failing log out of the test's temporary directory, for
// inspection, and returns where.
func keepLog(t *testing.T, dir, name string) string {
	dst, err := os.MkdirTemp("", "sealog-crash-"+name+"-")
	if err == nil {
		err = exec.Command("cp", "-a", dir, dst).Run()
	}
	if err != nil {
		return fmt.Sprintf("nowhere: %v", err)
	}
	return filepath.Join(dst, filepath.Base(dir))
}

// checkAcked reads the log back from the lowest seq in acked (each line
// checked against the tree) and compares each acknowledged entry with its
// receipt. It returns the log's size.
func checkAcked(t *testing.T, when string, l *Log, acked map[uint64]tlog.Hash) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	h, err := l.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	size := h.Size
	from := size
	for seq := range acked {
		if seq >= size {
			t.Fatalf("%s: acknowledged entry %d is missing (the log has %d entries)", when, seq, size)
		}
		from = min(from, seq)
	}
	seen := 0
	for e, err := range l.Entries(ctx, from, size) {
		if err != nil {
			t.Fatalf("%s: reading the log: %v", when, err)
		}
		if leaf, ok := acked[e.Seq]; ok {
			if e.LeafHash != leaf {
				t.Fatalf("%s: acknowledged entry %d changed", when, e.Seq)
			}
			seen++
		}
	}
	if seen != len(acked) {
		t.Fatalf("%s: %d acknowledged entries, %d found", when, len(acked), seen)
	}
	return size
}

// startCrashReaders starts the readers of the readers mode: one verifies
// the directory over and over, one reads every entry through a read-only
// Log. Whatever the writer is doing — appending, rotating, compressing,
// being killed, recovering — neither may see a break: the verifier reports
// no problem (entries of a batch being written may show as unsigned), and
// every entry the read-only Log's verified head covers reads back. The
// returned function stops them and fails the test on what they saw (each
// reader goes on after a failure, to count them).
func startCrashReaders(t *testing.T, dir string, k *Key, st *crashStats) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var mu sync.Mutex
	bad := map[string]int{}       // failures by reader
	seen := map[string][]string{} // the first few of each reader
	fail := func(who string, err error) {
		mu.Lock()
		defer mu.Unlock()
		if bad[who]++; bad[who] <= 5 {
			seen[who] = append(seen[who], err.Error())
		}
	}
	wg.Add(2)
	go func() {
		// The verifier runs in a process of its own, as `sealog verify`
		// beside a writer does, and reports each verification on a line.
		defer wg.Done()
		cmd := testkit.Child(ctx, t, "verifier", dir+"|"+k.VerifierKey())
		out, err := cmd.StdoutPipe()
		if err != nil {
			fail("verify", err)
			return
		}
		if err := cmd.Start(); err != nil {
			fail("verify", err)
			return
		}
		sc := bufio.NewScanner(out)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if line := sc.Text(); line != "ok" {
				fail("verify", errors.New(line))
			}
			st.verifies.Add(1)
		}
		cmd.Wait()
	}()
	go func() {
		defer wg.Done()
		var l *Log
		defer func() {
			if l != nil {
				l.Close()
			}
		}()
		for ctx.Err() == nil {
			if l == nil {
				var err error
				if l, err = Open(dir, Options{ReadOnly: true}); err != nil {
					l = nil
					if !errors.Is(err, ErrNotLog) && !errors.Is(err, file.ErrRecoveryNeeded) {
						fail("read", fmt.Errorf("a read-only open beside the writer: %w", err))
					}
					time.Sleep(5 * time.Millisecond)
					continue
				}
			}
			rctx, rcancel := context.WithTimeout(ctx, time.Minute)
			h, err := l.Head(rctx)
			if err == nil {
				n := uint64(0)
				for e, ierr := range l.Entries(rctx, 0, h.Size) {
					if ierr != nil {
						err = ierr
						break
					}
					if e.Seq != n {
						err = fmt.Errorf("entry %d where %d was expected", e.Seq, n)
						break
					}
					n++
				}
			}
			rcancel()
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				fail("read", fmt.Errorf("a read-only Log beside the writer: %w", err))
			}
			st.reads.Add(1)
		}
	}()
	return func() {
		cancel()
		wg.Wait()
		for who, n := range bad {
			t.Errorf("%d failed %s passes beside the writer; the first:\n%s", n, who, strings.Join(seen[who], "\n"))
		}
		st.badVerifies, st.badReads = bad["verify"], bad["read"]
		if st.verifies.Load() == 0 || st.reads.Load() == 0 {
			t.Errorf("the readers completed %d verifications and %d reads: they did not run beside the writer", st.verifies.Load(), st.reads.Load())
		}
	}
}

// verifierChild (dir|vkey) verifies the log over and over until killed,
// printing "ok" or what it found wrong for each verification.
func verifierChild(spec string) {
	dir, vkey, _ := strings.Cut(spec, "|")
	for {
		if _, err := os.Stat(filepath.Join(dir, layout.MetadataFile)); err != nil {
			time.Sleep(5 * time.Millisecond)
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		rep, err := verify.Verify(ctx, verify.Dir(dir), verify.Options{Key: vkey})
		cancel()
		switch {
		case err != nil:
			fmt.Printf("a verification beside the writer failed: %v\n", err)
		case len(rep.Problems) > 0 || rep.FirstInvalid != nil:
			fmt.Printf("a verification beside the writer saw a break that is not there: %+v\n", rep.Problems)
		default:
			fmt.Println("ok")
		}
	}
}

// ackLog reads the acknowledgements the children recorded, each line
// once.
type ackLog struct {
	path string
	off  int64 // the complete lines before it were read
}

// readNew returns the acknowledgements recorded since the last call. A
// last line the kill tore is cut off the file, so that the next child's
// first line starts a line of its own.
func (a *ackLog) readNew(t *testing.T) map[uint64]tlog.Hash {
	t.Helper()
	out := map[uint64]tlog.Hash{}
	f, err := os.OpenFile(a.path, os.O_RDWR, 0)
	if os.IsNotExist(err) {
		return out
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Seek(a.off, 0); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReaderSize(f, 1<<20)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			if len(line) > 0 { // torn by the kill
				if err := f.Truncate(a.off); err != nil {
					t.Fatal(err)
				}
			}
			break
		}
		a.off += int64(len(line))
		seqS, leafS, _ := strings.Cut(strings.TrimSpace(line), " ")
		seq, err := strconv.ParseUint(seqS, 10, 64)
		b, herr := hex.DecodeString(leafS)
		if err != nil || herr != nil || len(b) != tlog.HashSize {
			t.Fatalf("acknowledgement %q is malformed", line)
		}
		out[seq] = tlog.Hash(b)
	}
	return out
}
