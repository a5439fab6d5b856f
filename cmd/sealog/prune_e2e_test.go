package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/store/file"
	"github.com/sealog/sealog/tree"
)

// TestPruneEndToEnd runs the real binary: a log of many small segments,
// 'sealog prune --below', 'sealog verify' reporting the pruned range, and
// a widened range reported as tampering at its first missing seq.
func TestPruneEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	key, logDir := filepath.Join(dir, "k.key"), filepath.Join(dir, "log")
	// A log of many small segments, written by the library (the
	// command keeps the default segment size).
	skey, vkey := testkit.Keys("prune-e2e", "example.com/prune")
	os.WriteFile(key, []byte(skey+"\n"), 0o600)
	os.WriteFile(key+".pub", []byte(vkey+"\n"), 0o644)
	k, _ := sealog.ParseKey(skey)
	l, err := sealog.Open(logDir, sealog.Options{Key: k, Clock: testkit.Clock(time.Second), Rand: testkit.Rand("prune-e2e"), File: file.Options{SegmentSize: 2048}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 30; i++ {
		evs := make([]sealog.Event, 3)
		for j := range evs {
			evs[j] = sealog.Event{Kind: "doc.read", Payload: map[string]any{"i": i, "pad": strings.Repeat("x", 100)}}
		}
		if _, err := l.AppendBatch(ctx, evs); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	segs, _, _ := layout.Segments(logDir)
	if len(segs) < 3 {
		t.Fatalf("only %d segments", len(segs))
	}
	out, err := runBinary(t, ctx, "prune", logDir, "--key", key, "--below", fmt.Sprint(segs[1].First), "--json")
	if err != nil {
		t.Fatalf("prune: %v\n%s", err, out)
	}
	var res struct {
		Below     uint64 `json:"below"`
		RecordSeq uint64 `json:"record_seq"`
	}
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &res); err != nil || res.Below != segs[1].First || res.RecordSeq != 90 {
		t.Fatalf("prune --json: %v %+v\n%s", err, res, out)
	}
	out, err = runBinary(t, ctx, "verify", logDir, "--key", key+".pub")
	if err != nil || !strings.Contains(out, fmt.Sprintf("entries 0 to %d were deleted on", res.Below-1)) || !strings.Contains(out, "by the prune record at entry 90") {
		t.Fatalf("verify of the pruned log: %v\n%s", err, out)
	}
	// Reading commands start at the prune point.
	out, err = runBinary(t, ctx, "query", logDir, "--kind", "doc.read")
	if err != nil || !strings.HasPrefix(out, fmt.Sprint(res.Below)+" ") && !strings.Contains(out, "\n"+fmt.Sprint(res.Below)+" ") {
		t.Fatalf("query of the pruned log: %v\n%.500s", err, out)
	}

	// Widened: one more segment deleted, pruned.json moved along with
	// the right chain link and tree (an attacker can compute them from
	// the lines before deleting them).
	p, err := layout.ReadPruned(logDir)
	if err != nil {
		t.Fatal(err)
	}
	rl, err := sealog.Open(logDir, sealog.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	last, err := rl.Entry(ctx, segs[2].First-1)
	if err != nil {
		t.Fatal(err)
	}
	edge, err := tree.Load(segs[2].First, store.HashReader(ctx, rl.Store()))
	if err != nil {
		t.Fatal(err)
	}
	rl.Close()
	p.Below, p.Leaf, p.Time, p.Edge = segs[2].First, last.LeafHash, last.Time.UnixNano(), edge.Hashes()
	os.WriteFile(filepath.Join(logDir, layout.PrunedFile), p.Marshal(), 0o644)
	os.Remove(segs[1].Path)
	code, stdout, _ := runCLI(t, nil, "verify", logDir, "--key", key+".pub", "--json")
	var rep struct {
		Verdict      string  `json:"verdict"`
		FirstInvalid *uint64 `json:"first_invalid"`
	}
	json.Unmarshal([]byte(stdout), &rep)
	if code != 1 || rep.Verdict != "tampered" || rep.FirstInvalid == nil || *rep.FirstInvalid != res.Below {
		t.Fatalf("verify of a widened prune: exit %d, %+v\n%s", code, rep, stdout)
	}
	// Bad input.
	if code, _, stderr := runCLI(t, nil, "prune", logDir, "--key", key, "--below", "3", "--before", "2026-01-01T00:00:00Z"); code != 2 || !strings.Contains(stderr, "exactly one") {
		t.Fatalf("--below and --before: exit %d %s", code, stderr)
	}
}
