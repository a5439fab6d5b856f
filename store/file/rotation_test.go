//go:build unix

package file_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/store/file"
)

// rotateSegment is well over format.MaxLineSize, so that the zeros of a
// spare segment are a run longer than any line, even as a reader that
// doubles its buffer sees it (the logs had 64 MiB segments).
const rotateSegment = 12 << 20

// rotateChild (dir|skey) appends until the writer has moved to a new
// segment made from the preallocated spare, appends a little more, says
// "rotated" and waits to be killed.
func rotateChild(arg string) {
	dir, skey, _ := strings.Cut(arg, "|")
	l, err := sealog.Open(dir, sealog.Options{Key: mustKey(skey), File: file.Options{SegmentSize: rotateSegment}})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(3)
	}
	ctx := context.Background()
	spare := filepath.Join(dir, layout.SegmentsDir, "spare")
	segs, _, _ := layout.Segments(dir)
	// The spare is made once the active segment is half written: append
	// until it is ready (and synced), then until the rotation.
	ready := false
	deadline := time.Now().Add(60 * time.Second)
	for i := 0; ; i += 500 {
		if !ready {
			if fi, err := os.Stat(spare); err == nil && fi.Size() == rotateSegment {
				ready = true
				time.Sleep(300 * time.Millisecond) // its fdatasync
			}
		}
		now, _, _ := layout.Segments(dir)
		if len(now) > len(segs) {
			if !ready {
				fmt.Println("no spare segment before the rotation")
				os.Exit(3)
			}
			break
		}
		if time.Now().After(deadline) {
			fmt.Println("no rotation")
			os.Exit(3)
		}
		if _, err := l.AppendBatch(ctx, events(i, 500)); err != nil {
			fmt.Println("append:", err)
			os.Exit(4)
		}
	}
	for i := 0; i < 5; i++ {
		if _, err := l.AppendBatch(ctx, events(i, 3)); err != nil {
			fmt.Println("append:", err)
			os.Exit(4)
		}
	}
	fmt.Println("rotated")
	time.Sleep(time.Hour)
}

// Issue 9, defect 1: a writer killed soon after it moved to a new segment
// (the spare: all zeros past the few lines written) left a log that every
// write-open refused ("line at offset … is longer than 4194304 bytes, and
// signed (acknowledged) entries follow it"). Each round here kills the
// writer just after a rotation and reopens the log.
func TestReopenAfterRotationCrash(t *testing.T) {
	k, skey := testKey(t)
	dir := filepath.Join(t.TempDir(), "log")
	for round := 0; round < 3; round++ {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		cmd := testkit.Child(ctx, t, "rotate", dir+"|"+skey)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, _ := bufio.NewReader(out).ReadString('\n')
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		cancel()
		if strings.TrimSpace(line) != "rotated" {
			t.Fatalf("round %d: the writer did not get to rotate: %q", round, line)
		}
		segs, _, _ := layout.Segments(dir)
		active := segs[len(segs)-1]
		if fi, err := os.Stat(active.Path); err != nil || fi.Size() != rotateSegment {
			t.Fatalf("round %d: the active segment was not made from the spare (%v, %v): the test did not reach the case", round, fi.Size(), err)
		}

		logs, lg := newCapture(t)
		l, err := sealog.Open(dir, sealog.Options{Key: k, Logger: lg, File: file.Options{SegmentSize: rotateSegment}})
		if err != nil {
			t.Fatalf("round %d: reopening after a kill just after a rotation: %v", round, err)
		}
		if s := logs.String(); strings.Contains(s, "longer than") || strings.Contains(s, "never acknowledged") {
			t.Errorf("round %d: recovery called NUL padding something else:\n%s", round, s)
		}
		h, err := l.Head(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if h.Size <= active.First {
			t.Fatalf("round %d: %d entries after reopening, but the new segment starts at %d", round, h.Size, active.First)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		verifyDir(t, dir, k, h.Size)
		t.Logf("round %d: %d entries, %d segments", round, h.Size, len(segs))
	}
}
