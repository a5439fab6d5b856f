//go:build unix

package file_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/store/file"
	"github.com/sealog/sealog/verify"
)

// appenderChild (dir|skey|segSize|compress) appends batches until killed,
// and says "ready" after the first.
func appenderChild(arg string) {
	p := strings.Split(arg, "|")
	seg, _ := strconv.ParseInt(p[2], 10, 64)
	l, err := sealog.Open(p[0], sealog.Options{Key: mustKey(p[1]), File: file.Options{SegmentSize: seg, Compress: p[3] == "true"}})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(3)
	}
	ctx := context.Background()
	for i := 0; ; i += 20 {
		if _, err := l.AppendBatch(ctx, events(i, 1+i%20)); err != nil {
			fmt.Println("append:", err)
			os.Exit(4)
		}
		if i == 0 {
			fmt.Println("ready")
		}
	}
}

// startAppender runs appenderChild on dir until the test ends.
func startAppender(t *testing.T, dir, skey string, seg int64, compress bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := testkit.Child(ctx, t, "appender", fmt.Sprintf("%s|%s|%d|%v", dir, skey, seg, compress))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		cancel()
	})
	if line, _ := bufio.NewReader(out).ReadString('\n'); strings.TrimSpace(line) != "ready" {
		t.Fatalf("the appender did not start: %q", line)
	}
}

// Issue 9, defect 4 (the file store's side): a reader beside a healthy
// writer must find every segment it listed. Compressing a sealed segment
// removed its plain file right after the compressed one appeared, so a
// reader that had listed the plain file a moment before found it gone
// ("no such file or directory"). The writer now publishes in an order
// readers can follow: the compressed file appears only complete, checked
// and with its frame index, and the plain file stays for a grace period
// after that, so a reader that lists the directory (taking the compressed
// form of a segment present in both) and opens what it listed within the
// grace period always finds it. Readers through the store (read-only
// opens) follow a segment from one form to the other.
func TestReadersBesideCompressingWriter(t *testing.T) {
	_, skey := testKey(t)
	dir := filepath.Join(t.TempDir(), "log")
	startAppender(t, dir, skey, 1024, true)
	deadline := time.Now().Add(4 * time.Second)
	if testing.Short() {
		deadline = time.Now().Add(time.Second)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	// A reader that lists the segments, pauses, and opens each listed one.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for time.Now().Before(deadline) {
			paths, err := listPreferCompressed(dir)
			if err != nil {
				errs <- err
				return
			}
			time.Sleep(2 * time.Millisecond)
			for _, p := range paths {
				f, err := os.Open(p)
				if err != nil {
					if errors.Is(err, fs.ErrNotExist) {
						err = fmt.Errorf("segment %s was listed and is gone 2 ms later: %w", filepath.Base(p), err)
					}
					errs <- err
					return
				}
				io.Copy(io.Discard, f)
				f.Close()
			}
		}
	}()
	// Readers through the store: each reads the whole log and checks
	// every entry against the verified checkpoint.
	for r := 0; r < 2; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, err := sealog.Open(dir, sealog.Options{ReadOnly: true})
			if err != nil {
				errs <- err
				return
			}
			defer l.Close()
			ctx, cancel := context.WithDeadline(context.Background(), deadline.Add(time.Minute))
			defer cancel()
			for time.Now().Before(deadline) {
				h, err := l.Head(ctx)
				if err != nil {
					errs <- fmt.Errorf("head: %w", err)
					return
				}
				n := uint64(0)
				for e, err := range l.Entries(ctx, 0, h.Size) {
					if err != nil {
						errs <- fmt.Errorf("reading entries 0..%d: %w", h.Size, err)
						return
					}
					if e.Seq != n {
						errs <- fmt.Errorf("entry %d where %d was expected", e.Seq, n)
						return
					}
					n++
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	ents, _ := os.ReadDir(filepath.Join(dir, layout.SegmentsDir))
	compressed := 0
	for _, e := range ents {
		if _, comp, ok := layout.ParseSegmentName(e.Name()); ok && comp {
			compressed++
		}
	}
	if compressed == 0 {
		t.Fatalf("no segment was compressed during the test (%d files)", len(ents))
	}
}

// listPreferCompressed lists the segment files of the log at dir, taking
// the compressed form of a segment present in both.
func listPreferCompressed(dir string) ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(dir, layout.SegmentsDir))
	if err != nil {
		return nil, err
	}
	byFirst := map[uint64]string{}
	var firsts []uint64
	for _, e := range ents {
		first, comp, ok := layout.ParseSegmentName(e.Name())
		if !ok {
			continue
		}
		if _, seen := byFirst[first]; !seen {
			firsts = append(firsts, first)
		}
		if _, seen := byFirst[first]; !seen || comp {
			byFirst[first] = filepath.Join(dir, layout.SegmentsDir, e.Name())
		}
	}
	slices.Sort(firsts)
	var out []string
	for _, f := range firsts {
		out = append(out, byFirst[f])
	}
	return out, nil
}

// An erasure in a compressed segment, and in one whose plain file is still
// there (within KeepPlain), rewrites the segment; the plain file's delayed
// removal does not take the rewritten segment away, and the log verifies
// after a reopen.
func TestEraseInCompressedSegment(t *testing.T) {
	k, _ := testKey(t)
	dir := filepath.Join(t.TempDir(), "log")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, keep := range []time.Duration{time.Millisecond, time.Hour} {
		l, err := sealog.Open(dir, sealog.Options{Key: k, Logger: logger(t), File: file.Options{SegmentSize: 4096, Compress: true, KeepPlain: keep}})
		if err != nil {
			t.Fatal(err)
		}
		appendN(t, l, 100, 5)
		testkit.Eventually(t, 30*time.Second, "segments compressed", func() bool {
			ents, _ := os.ReadDir(filepath.Join(dir, layout.SegmentsDir))
			n := 0
			for _, e := range ents {
				if strings.HasSuffix(e.Name(), ".zst") {
					n++
				}
			}
			return n >= 3
		})
		h, _ := l.Head(ctx)
		seq := h.Size - 90 // in a sealed, compressed segment
		if _, err := l.Erase(ctx, seq, "test"); err != nil {
			t.Fatalf("erase %d (KeepPlain %v): %v", seq, keep, err)
		}
		time.Sleep(20 * time.Millisecond) // past a short KeepPlain
		e, err := l.Entry(ctx, seq)
		if err != nil || !e.Erased {
			t.Fatalf("entry %d after the erasure: %+v %v", seq, e, err)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		rep := verifyDir(t, dir, k, logSizeAt(t, dir))
		if rep.Erased == 0 {
			t.Fatalf("no erased entry: %+v", rep)
		}
	}
}

func logSizeAt(t *testing.T, dir string) uint64 {
	l, err := sealog.Open(dir, sealog.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	h, err := l.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return h.Size
}

// A log verified while it is being written — segments sealed and
// compressed, their plain files removed, all under the verifier's feet —
// is valid every time, never accused: each pass sees a prefix of the log
// that ends at a signed batch, or a tail not yet signed, which is
// reported as unsigned, not as tampering. The passes see the log grow.
func TestVerifyWhileAppending(t *testing.T) {
	k, _ := testKey(t)
	dir := filepath.Join(t.TempDir(), "log")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l, err := sealog.Open(dir, sealog.Options{Key: k, Logger: testkit.Logger(t), File: file.Options{SegmentSize: 4096, Compress: true, KeepPlain: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := l.Append(ctx, sealog.Event{Kind: "live", Actor: fmt.Sprint(g), Payload: map[string]int{"i": i}}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	var last uint64
	grew, unsigned := 0, 0
	passes := 0
	for ; passes < 40 || last < 400; passes++ { // and dozens of segments sealed meanwhile
		pass := passes
		rep, err := verify.Verify(ctx, verify.Dir(dir), verify.Options{Key: k.VerifierKey()})
		if err != nil {
			t.Fatalf("pass %d: %v", pass, err)
		}
		switch rep.Verdict {
		case verify.VerdictValid:
		case verify.VerdictUnsigned:
			unsigned++
		default:
			t.Fatalf("pass %d over a live log: %s, %+v", pass, rep.Verdict, rep.Problems)
		}
		if rep.Authenticated < last {
			t.Fatalf("pass %d authenticated %d entries, fewer than the %d before", pass, rep.Authenticated, last)
		}
		if rep.Authenticated > last {
			grew++
		}
		last = rep.Authenticated
	}
	close(stop)
	wg.Wait()
	if grew < 10 {
		t.Fatalf("the log grew during only %d of %d passes", grew, passes)
	}
	h, err := l.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d passes over a log that grew to %d entries; %d saw an unsigned tail", passes, h.Size, unsigned)
}
