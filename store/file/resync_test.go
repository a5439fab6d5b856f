//go:build unix

package file_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/internal/durable"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/store/file"
)

// diskModel follows, through the durable package's hooks, which bytes of
// which files a successful fsync made durable, and which a failed one
// left in the page cache only: after a failed fsync Linux marks the dirty
// pages clean, so a later fsync does not write them, and a power cut (or
// the pages' eviction) loses them although every read until then returns
// them.
type diskModel struct {
	mu       sync.Mutex
	dirty    map[string][]span // written since the last sync
	lost     map[string][]span // in the page cache only, for good
	failNext map[string]bool   // fail the next sync of these paths
}

type span struct{ from, to int64 }

func newDiskModel() *diskModel {
	return &diskModel{dirty: map[string][]span{}, lost: map[string][]span{}, failNext: map[string]bool{}}
}

func (m *diskModel) hooks() *durable.Hooks {
	return &durable.Hooks{
		Write: func(path string, off int64, n int) {
			m.mu.Lock()
			defer m.mu.Unlock()
			s := span{off, off + int64(n)}
			m.dirty[path] = append(m.dirty[path], s)
			m.lost[path] = subtract(m.lost[path], s)
		},
		Sync: func(path string) error {
			m.mu.Lock()
			defer m.mu.Unlock()
			if m.failNext[path] {
				delete(m.failNext, path)
				m.lost[path] = append(m.lost[path], m.dirty[path]...)
				delete(m.dirty, path)
				return syscall.EIO
			}
			return nil
		},
		Synced: func(path string, _ *os.File) {
			m.mu.Lock()
			defer m.mu.Unlock()
			delete(m.dirty, path)
		},
		Truncate: func(path string, size int64) {
			m.mu.Lock()
			defer m.mu.Unlock()
			m.lost[path] = subtract(m.lost[path], span{size, 1 << 62})
		},
	}
}

// subtract removes s from the spans.
func subtract(spans []span, s span) []span {
	var out []span
	for _, x := range spans {
		if x.to <= s.from || x.from >= s.to {
			out = append(out, x)
			continue
		}
		if x.from < s.from {
			out = append(out, span{x.from, s.from})
		}
		if x.to > s.to {
			out = append(out, span{s.to, x.to})
		}
	}
	return out
}

// lostIn returns the lost bytes of path within [from, to).
func (m *diskModel) lostIn(path string, from, to int64) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := int64(0)
	for _, x := range m.lost[path] {
		if lo, hi := max(x.from, from), min(x.to, to); hi > lo {
			n += hi - lo
		}
	}
	return n
}

// Issue 9, defect 11: after an fsync of the active segment failed, the
// batch's bytes were in the page cache but not on the disk, and a reopen
// accepted them (every read returns them) without writing or syncing them
// again: the log then acknowledged later batches on top of entries that a
// power cut would take away. Reopening writes the last batch again and
// syncs it (or it would have to cut it): no entry the reopened log holds
// may lie in bytes only the page cache has.
func TestReopenAfterFailedFsync(t *testing.T) {
	m := newDiskModel()
	prev := durable.SetHooks(m.hooks())
	defer durable.SetHooks(prev)

	k, _ := testKey(t)
	dir := filepath.Join(t.TempDir(), "log")
	opts := sealog.Options{Key: k, Logger: logger(t), File: file.Options{SegmentSize: 1 << 20}}
	l, err := sealog.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, l, 30, 5)
	seg := lastSegment(t, dir)
	m.mu.Lock()
	m.failNext[seg] = true
	m.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := l.AppendBatch(ctx, events(30, 5)); !errors.Is(err, store.ErrPoisoned) {
		t.Fatalf("append with a failing fsync: %v, want ErrPoisoned", err)
	}
	l.Close()
	if m.lostIn(seg, 0, 1<<62) == 0 {
		t.Fatal("the failed fsync left nothing in the page cache only: the test did not reach the case")
	}

	l, err = sealog.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, l, 10, 5) // acknowledged on top of what the reopen kept
	h, err := l.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// Every entry line of the log must be on the disk.
	b, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	off := int64(0)
	for seq := uint64(0); seq < h.Size; seq++ {
		end := int64(bytes.IndexByte(b[off:], '\n')) + off + 1
		if end <= off {
			t.Fatalf("entry %d is not in %s", seq, seg)
		}
		if n := m.lostIn(seg, off, end); n > 0 {
			t.Fatalf("entry %d (of %d kept after the reopen) has %d bytes that only the page cache holds: a power cut would take away an entry the log built on", seq, h.Size, n)
		}
		off = end
	}
	segs, _, _ := layout.Segments(dir)
	if len(segs) != 1 {
		t.Fatalf("%d segments", len(segs))
	}
	verifyDir(t, dir, k, h.Size)
}
