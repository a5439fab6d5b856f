//go:build unix

package file_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/store/file"
)

// Issue 9, defect 7: after `rm -rf` of an open log's directory the writer
// went on acknowledging appends (about 1,900 of them, with only a
// warning), all of them gone. The writer checks that its directory and
// its active segment are still the ones it opened, and refuses to
// acknowledge a batch written to files that are no longer the log's: at
// once when the active segment is unlinked (rm -rf), within 50 ms when
// the directory is moved away and another put in its place.
func TestLogDirectoryRemovedWhileOpen(t *testing.T) {
	for _, tc := range []struct {
		name  string
		do    func(t *testing.T, dir string)
		after time.Duration // noticed within
	}{
		{"removed", func(t *testing.T, dir string) {
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
		}, 0},
		{"moved away and replaced", func(t *testing.T, dir string) {
			if err := os.Rename(dir, dir+".old"); err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Join(dir, layout.SegmentsDir), 0o755); err != nil {
				t.Fatal(err)
			}
		}, 60 * time.Millisecond},
		{"active segment removed", func(t *testing.T, dir string) {
			if err := os.Remove(lastSegment(t, dir)); err != nil {
				t.Fatal(err)
			}
		}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, _ := testKey(t)
			dir := filepath.Join(t.TempDir(), "log")
			l, err := sealog.Open(dir, sealog.Options{Key: k, Logger: testkit.Logger(t), File: file.Options{SegmentSize: 1 << 20}})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			appendN(t, l, 20, 5)
			tc.do(t, dir)
			time.Sleep(tc.after)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			for i := 0; i < 50; i++ {
				r, err := l.Append(ctx, sealog.Event{Kind: "after.removal"})
				if err == nil {
					t.Fatalf("append %d after the log's files were %s was acknowledged (seq %d)", i, tc.name, r.Seq)
				}
				if !errors.Is(err, store.ErrPoisoned) {
					t.Fatalf("append after the log's files were %s: %v, want ErrPoisoned", tc.name, err)
				}
			}
		})
	}
}
