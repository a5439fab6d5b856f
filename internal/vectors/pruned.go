package vectors

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/store/file"
)

// PrunedOrigin is the origin of the pruned-log vector.
const PrunedOrigin = "example.com/pruned"

// GeneratePruned writes the pruned-log vector into dir (docs/FORMAT.md
// §13.4): a log of 12 batches of 4 entries in segments of at most 1 KiB,
// pruned below its fourth segment, then two more entries; its key, from a
// fixed seed, in log.pub. The same bytes every run.
func GeneratePruned(dir string) error {
	logDir := filepath.Join(dir, "log")
	if err := os.RemoveAll(logDir); err != nil {
		return err
	}
	skey, vkey := testkit.Keys("pruned-vectors", PrunedOrigin)
	k, err := sealog.ParseKey(skey)
	if err != nil {
		return err
	}
	t0 := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { t0 = t0.Add(time.Minute); return t0 }
	opts := sealog.Options{Key: k, Clock: clock, Rand: testkit.Rand("pruned-vectors"),
		File: file.Options{SegmentSize: 1024, Now: func() time.Time { return time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC) }}}
	l, err := sealog.Open(logDir, opts)
	if err != nil {
		return err
	}
	ctx := context.Background()
	for i := range 12 {
		evs := make([]sealog.Event, 4)
		for j := range evs {
			evs[j] = sealog.Event{Kind: "doc.read", Actor: "alice@example.com", Payload: map[string]any{"doc": fmt.Sprint(i*4 + j), "pad": strings.Repeat("-", 40)}}
		}
		if _, err := l.AppendBatch(ctx, evs); err != nil {
			return err
		}
	}
	segs, _, err := layout.Segments(logDir)
	if err != nil || len(segs) < 5 {
		return fmt.Errorf("vector log: %d segments (%v), want 5 or more", len(segs), err)
	}
	if _, err := l.Prune(ctx, segs[3].First); err != nil {
		return err
	}
	if _, err := l.AppendBatch(ctx, []sealog.Event{{Kind: "after.prune"}, {Kind: "after.prune", Actor: "bob"}}); err != nil {
		return err
	}
	if err := l.Close(); err != nil {
		return err
	}
	os.Remove(filepath.Join(logDir, layout.LockFile))
	return os.WriteFile(filepath.Join(dir, "log.pub"), []byte(vkey+"\n"), 0o644)
}

// PrunedRotatedKey returns the i-th key (0, 1, 2) of the pruned rotated
// vector log.
func PrunedRotatedKey(i int) (skey, vkey string) {
	return testkit.Keys(fmt.Sprintf("pruned-rotated-vectors-%d", i), PrunedOrigin)
}

// GeneratePrunedRotated writes the pruned rotated vector into dir
// (docs/FORMAT.md §13.4): a log of 4-entry batches in segments of at most
// 1 KiB whose key is rotated twice, after its 4th and 8th batch, pruned
// below the first segment start past the second rotation record (so
// pruned.json keeps both records), then two more entries; its three keys
// in keys (one a line, the first first) and the first in log.pub. The
// same bytes every run.
func GeneratePrunedRotated(dir string) error {
	logDir := filepath.Join(dir, "log")
	if err := os.RemoveAll(logDir); err != nil {
		return err
	}
	var ks [3]*sealog.Key
	var vks [3]string
	for i := range ks {
		skey, vkey := PrunedRotatedKey(i)
		k, err := sealog.ParseKey(skey)
		if err != nil {
			return err
		}
		ks[i], vks[i] = k, vkey
	}
	t0 := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { t0 = t0.Add(time.Minute); return t0 }
	opts := sealog.Options{Key: ks[0], Clock: clock, Rand: testkit.Rand("pruned-rotated-vectors"),
		File: file.Options{SegmentSize: 1024, Now: func() time.Time { return time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC) }}}
	l, err := sealog.Open(logDir, opts)
	if err != nil {
		return err
	}
	ctx := context.Background()
	var rot uint64
	for i := range 12 {
		if i == 4 || i == 8 {
			r, err := l.Rotate(ctx, ks[i/4])
			if err != nil {
				return err
			}
			rot = r.Seq
		}
		evs := make([]sealog.Event, 4)
		for j := range evs {
			evs[j] = sealog.Event{Kind: "doc.read", Actor: "alice@example.com", Payload: map[string]any{"doc": fmt.Sprint(i*4 + j), "pad": strings.Repeat("-", 40)}}
		}
		if _, err := l.AppendBatch(ctx, evs); err != nil {
			return err
		}
	}
	segs, _, err := layout.Segments(logDir)
	if err != nil {
		return err
	}
	var below uint64
	for _, s := range segs[:len(segs)-1] {
		if s.First > rot+1 && below == 0 {
			below = s.First
		}
	}
	if below == 0 {
		return fmt.Errorf("vector log: no sealed segment starts after the second rotation record (%d)", rot)
	}
	if _, err := l.Prune(ctx, below); err != nil {
		return err
	}
	if _, err := l.AppendBatch(ctx, []sealog.Event{{Kind: "after.prune"}, {Kind: "after.prune", Actor: "bob"}}); err != nil {
		return err
	}
	if err := l.Close(); err != nil {
		return err
	}
	os.Remove(filepath.Join(logDir, layout.LockFile))
	if err := os.WriteFile(filepath.Join(dir, "keys"), []byte(strings.Join(vks[:], "\n")+"\n"), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "log.pub"), []byte(vks[0]+"\n"), 0o644)
}
