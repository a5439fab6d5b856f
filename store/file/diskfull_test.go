//go:build unix

package file_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/store/file"
)

// Issue 9, defect 5: preallocation filled small disks. On an empty 2 MiB
// filesystem not one event could be appended; on a 16 MiB one with 13 MiB
// free, making the 64 MiB spare segment filled the disk and the writer
// failed. Preallocation adapts to the free space, gives space back when
// it runs short, and is never the reason an append fails.
func TestSmallDisk(t *testing.T) {
	k, _ := testKey(t)
	t.Run("2 MiB, empty", func(t *testing.T) {
		dir := filepath.Join(tmpfs(t, "2m"), "log")
		l, err := sealog.Open(dir, sealog.Options{Key: k, Logger: logger(t)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() }) // before the unmount
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// ~1 MiB of entries, tree hashes and index: half the disk.
		for i := 0; i < 3000; i++ {
			if _, err := l.Append(ctx, events(i, 1)[0]); err != nil {
				t.Fatalf("append %d on a 2 MiB disk with %d bytes free: %v", i, freeBytes(t, dir), err)
			}
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		verifyDir(t, dir, k, 3000)
	})

	t.Run("16 MiB, 13 MiB free", func(t *testing.T) {
		mnt := tmpfs(t, "16m")
		filler := filepath.Join(mnt, "filler")
		if err := os.WriteFile(filler, make([]byte, 3<<20), 0o644); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(mnt, "log")
		l, err := sealog.Open(dir, sealog.Options{Key: k, Logger: logger(t)}) // 64 MiB segments
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() }) // before the unmount
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		// Append until the disk is really full: until then, no append
		// may fail.
		acked := uint64(0)
		var failure error
		for i := 0; failure == nil; i += 50 {
			if _, err := l.AppendBatch(ctx, events(i, 50)); err != nil {
				failure = err
				break
			}
			acked += 50
		}
		free := freeBytes(t, mnt)
		seg := lastSegment(t, dir)
		fi, _ := os.Stat(seg)
		t.Logf("first failure after %d entries (segment %d bytes, %d bytes free): %v", acked, fi.Size(), free, failure)
		if _, err := os.Stat(filepath.Join(dir, layout.SegmentsDir, "spare")); err == nil {
			t.Errorf("a spare segment holds space while appends fail for lack of it")
		}
		if free > 256<<10 {
			t.Fatalf("an append failed with %d bytes free: %v", free, failure)
		}
		if acked < 20000 {
			t.Fatalf("only %d entries fit in 13 MiB", acked)
		}
		l.Close()
		// With space again, the log reopens with every acknowledged entry.
		os.Remove(filler)
		l, err = sealog.Open(dir, sealog.Options{Key: k, Logger: logger(t), File: file.Options{}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		h, err := l.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if h.Size < acked {
			t.Fatalf("%d entries after reopening, %d were acknowledged", h.Size, acked)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		verifyDir(t, dir, k, h.Size)
	})
}
