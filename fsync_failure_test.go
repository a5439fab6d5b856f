package sealog

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sealog/sealog/internal/durable"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/verify"
)

// A failed fdatasync of the active segment, while 16 callers append: the
// batch it covered is not acknowledged, every append after it fails at
// once with ErrPoisoned (whose message says to reopen) instead of being
// acknowledged on top of data the disk may not hold, and reopening
// recovers a log that verifies, holds every acknowledged entry and takes
// appends again.
func TestFailedFsyncStopsTheLog(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	k := testKey(t)
	dir := filepath.Join(t.TempDir(), "log")
	l := openTest(t, dir, k)
	var syncs atomic.Int64
	defer durable.SetHooks(durable.SetHooks(&durable.Hooks{Sync: func(path string) error {
		if filepath.Base(filepath.Dir(path)) == layout.SegmentsDir && syncs.Add(1) == 30 {
			return syscall.EIO
		}
		return nil
	}}))
	var (
		mu    sync.Mutex
		acked []uint64
		errs  []error
		wg    sync.WaitGroup
	)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				r, err := l.Append(ctx, Event{Kind: "doc.read", Payload: map[string]any{"g": g, "i": i}})
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					acked = append(acked, r.Seq)
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	if len(errs) == 0 {
		t.Fatal("no append failed after a failed fdatasync")
	}
	poisoned := 0
	for _, err := range errs {
		if errors.Is(err, ErrPoisoned) {
			poisoned++
		}
	}
	if poisoned == 0 {
		t.Fatalf("no append failure says the log is poisoned: %v", errs)
	}
	if _, err := l.Append(ctx, Event{Kind: "doc.read"}); !errors.Is(err, ErrPoisoned) || !strings.Contains(err.Error(), "reopen") {
		t.Fatalf("an append after the failure: %v; want ErrPoisoned, saying to reopen", err)
	}
	l.Close()
	durable.SetHooks(nil)

	l = openTest(t, dir, k)
	defer l.Close()
	h, err := l.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, seq := range acked {
		if seq >= h.Size {
			t.Fatalf("acknowledged entry %d is not in the reopened log of %d", seq, h.Size)
		}
	}
	if _, err := l.Append(ctx, Event{Kind: "doc.read"}); err != nil {
		t.Fatalf("append after reopening: %v", err)
	}
	rep, err := verify.Verify(ctx, verify.Dir(dir), verify.Options{Key: k.VerifierKey()})
	if err != nil || !rep.Valid {
		t.Fatalf("the reopened log does not verify: %v %+v", err, rep.Problems)
	}
	t.Logf("%d acknowledged, %d failed (%d poisoned), log of %d after reopening", len(acked), len(errs), poisoned, h.Size)
}
