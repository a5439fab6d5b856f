//go:build unix

package file_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/store"
)

// TestRefusedOpenKeepsUnfinishedPrune: the segments an interrupted prune
// left below the prune point are deleted by recovery's apply, not its
// plan, so an open refused for damage elsewhere leaves them (and the
// rest) as they were, and the next good open deletes them.
func TestRefusedOpenKeepsUnfinishedPrune(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := buildLog(t, 60, 5, 2048, false)
	segs, _, _ := layout.Segments(dir)
	saved := map[string][]byte{}
	for _, sg := range segs {
		b, err := os.ReadFile(sg.Path)
		if err != nil {
			t.Fatal(err)
		}
		saved[sg.Path] = b
	}
	l, err := openLog(t, dir, nil, 2048)
	if err != nil {
		t.Fatal(err)
	}
	res, err := l.Prune(ctx, 30)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// A crash after pruned.json, before the segments went.
	restored := 0
	for _, sg := range segs {
		if sg.First < res.Below {
			if err := os.WriteFile(sg.Path, saved[sg.Path], 0o644); err != nil {
				t.Fatal(err)
			}
			restored++
		}
	}
	if restored == 0 {
		t.Fatal("nothing was pruned")
	}
	// And a forged signature in the active segment.
	p := lastSegment(t, dir)
	orig, _ := os.ReadFile(p)
	i := bytes.LastIndex(orig, []byte(`,"sig":"`)) + 20
	poke(t, p, int64(i), []byte{'A' + (orig[i]-'A'+1)%26})

	before := snapshot(t, dir)
	if l, err := openLog(t, dir, nil, 2048); err == nil {
		l.Close()
		t.Fatal("Open accepted the damaged log")
	} else if !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("Open: %v, want ErrCorrupt", err)
	}
	if after := snapshot(t, dir); after != before {
		t.Fatalf("the refused open changed the log:\nbefore:\n%s\nafter:\n%s", before, after)
	}

	// Repaired, the log opens and the prune is finished.
	if err := os.WriteFile(p, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	l, err = openLog(t, dir, nil, 2048)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	left, _, _ := layout.Segments(dir)
	if left[0].First != res.Below {
		t.Fatalf("after a good open the first segment starts at %d, want the prune point %d", left[0].First, res.Below)
	}
	for _, sg := range segs {
		if _, err := os.Stat(filepath.Join(dir, layout.SegmentsDir, filepath.Base(sg.Path))); sg.First < res.Below && err == nil {
			t.Fatalf("segment %s below the prune point is still there", sg.Path)
		}
	}
	k, _ := testKey(t)
	verifyDir(t, dir, k, 61-res.Below) // 60 entries and the prune record, less those pruned
}
