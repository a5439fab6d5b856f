//go:build unix

package file_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/internal/durable"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/store/file"
)

// Issue 9, defect 6: the checkpoint file was renamed into place without an
// fsync, so after a power cut it could be malformed (and verify said
// TAMPERED until the writer reopened). Every version of the checkpoint
// file that a reader can see must have been fsynced before it was renamed
// into place: this test records every checkpoint file the durable package
// fsynced, watches the checkpoint file while a writer publishes, and
// checks each version seen was one of them.
func TestCheckpointPublishedDurably(t *testing.T) {
	var mu sync.Mutex
	synced := map[string]bool{} // the content of each checkpoint file synced
	prev := durable.SetHooks(&durable.Hooks{Synced: func(path string, f *os.File) {
		if !strings.Contains(filepath.Base(path), layout.CheckpointFile) {
			return
		}
		b := make([]byte, 64<<10)
		n, _ := f.ReadAt(b, 0)
		mu.Lock()
		synced[string(b[:n])] = true
		mu.Unlock()
	}})
	defer durable.SetHooks(prev)

	k, _ := testKey(t)
	dir := filepath.Join(t.TempDir(), "log")
	l, err := sealog.Open(dir, sealog.Options{Key: k, Logger: testkit.Logger(t), File: file.Options{SegmentSize: 1 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	seen := map[string]bool{}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if b, err := os.ReadFile(filepath.Join(dir, layout.CheckpointFile)); err == nil {
				seen[string(b)] = true
			}
			time.Sleep(200 * time.Microsecond)
		}
	}()
	for i := 0; i < 12; i++ {
		appendN(t, l, 5, 5)
		time.Sleep(130 * time.Millisecond) // past the publisher's throttle
	}
	close(stop)
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	bad := 0
	for ck := range seen {
		if !synced[ck] {
			bad++
		}
	}
	if len(seen) < 5 {
		t.Fatalf("only %d versions of the checkpoint file seen", len(seen))
	}
	if bad > 0 {
		t.Fatalf("%d of the %d versions of the checkpoint file seen were renamed into place without an fsync", bad, len(seen))
	}
}

// Issue 9, defect 8: the checkpoint file was mode 0600 while the writer
// ran, so verify and show as another user failed until Close. A log's
// public files are readable by whoever may read the log: this test checks
// the mode of every file while the writer runs and then, as root, reads
// and verifies the log as the user nobody.
func TestPublicFilesReadable(t *testing.T) {
	k, _ := testKey(t)
	dir := filepath.Join(publicDir(t), "log")
	l, err := sealog.Open(dir, sealog.Options{Key: k, Logger: testkit.Logger(t), File: file.Options{SegmentSize: 4096, Compress: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	appendN(t, l, 100, 5)
	ck := filepath.Join(dir, layout.CheckpointFile)
	testkit.Eventually(t, 10*time.Second, "the checkpoint file published", func() bool {
		b, err := os.ReadFile(ck)
		return err == nil && strings.Contains(string(b), "\n100\n")
	})
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return nil // removed meanwhile
		}
		if fi.Mode().Perm()&0o044 != 0o044 {
			t.Errorf("%s is mode %v while the writer runs: not readable by the log's readers", path, fi.Mode())
		}
		return nil
	})

	t.Run("as another user", func(t *testing.T) {
		requireRoot(t, "to run a reader as another user")
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := testkit.Child(ctx, t, "reader", dir)
		asNobody(t, cmd)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), "100 100") {
			t.Fatalf("reading the log as nobody while the writer runs: %v\n%s", err, out)
		}
	})
}
