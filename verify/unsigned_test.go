package verify_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sealog/sealog/internal/speclog"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/verify"
)

// TestUnsigned: entries covered by no verified signature never make the
// verdict valid (issue 8, item 2). Those in the shape a writer's crash
// leaves (an unfinished batch at the end of the last segment, nothing else
// wrong) get the verdict "unsigned", which the report explains; any other
// unsigned entries are tampering.
func TestUnsigned(t *testing.T) {
	cases := []struct {
		name     string
		build    func(t *testing.T) (*speclog.Log, string)
		verdict  string
		first    *uint64
		unsigned uint64
	}{
		{"crash remnant: an unfinished batch at the end", func(t *testing.T) (*speclog.Log, string) {
			l := specLog(3, 3, 3)
			l.AppendUnsigned(speclog.Event(9), speclog.Event(10))
			return l, writeSpec(t, l, 3)
		}, verify.VerdictUnsigned, nil, 2},
		{"every entry forged, no signature at all", func(t *testing.T) (*speclog.Log, string) {
			l := speclog.New("verify-test", "test.example/audit")
			for i := range 6 {
				l.AppendUnsigned(speclog.Event(uint64(i)))
			}
			return l, writeSpec(t, l, 0)
		}, verify.VerdictUnsigned, nil, 6},
		{"forged entries without signatures in several segments", func(t *testing.T) (*speclog.Log, string) {
			l := speclog.New("verify-test", "test.example/audit")
			for i := range 6 {
				l.AppendUnsigned(speclog.Event(uint64(i)))
			}
			dir := writeSpec(t, l, 0)
			splitSegment(t, dir, 3)
			return l, dir
		}, verify.VerdictTampered, ptr(0), 6},
		{"newest batch rewritten, its signature dropped, the checkpoint file rolled back", func(t *testing.T) (*speclog.Log, string) {
			l := specLog(3, 3, 3)
			older := l.Notes[6]
			forged := speclog.New("verify-test", "test.example/audit") // same salts, same key
			forged.Append(3)
			forged.Append(3)
			forged.AppendUnsigned(speclog.Event(70), speclog.Event(71), speclog.Event(72))
			dir := writeSpec(t, forged, 3)
			if err := os.WriteFile(filepath.Join(dir, layout.CheckpointFile), older, 0o644); err != nil {
				t.Fatal(err)
			}
			return l, dir
		}, verify.VerdictUnsigned, nil, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, dir := tc.build(t)
			for _, opts := range []verify.Options{{Key: l.VKey}, {}, {Key: l.VKey, AllSignatures: true}} {
				rep := run(t, dir, opts)
				want(t, rep, tc.verdict, tc.first)
				if rep.Unsigned != tc.unsigned || rep.Authenticated+rep.Unsigned != rep.Entries {
					t.Fatalf("unsigned %d, want %d: %s", rep.Unsigned, tc.unsigned, dump(rep))
				}
				var b strings.Builder
				rep.WriteText(&b, verify.TextOptions{})
				if tc.verdict == verify.VerdictUnsigned && (!strings.Contains(b.String(), "status:         UNSIGNED") || !strings.Contains(b.String(), "crash")) {
					t.Fatalf("the report does not explain the unsigned entries:\n%s", b.String())
				}
			}
		})
	}
}

// splitSegment moves the lines of a log's only segment from entry at on
// into a segment of their own.
func splitSegment(t *testing.T, dir string, at int) {
	t.Helper()
	segs := readSegs(t, dir)
	tail := segs[0].lines[at:]
	segs[0].lines = segs[0].lines[:at]
	writeSegs(t, segs)
	var b []byte
	for _, l := range tail {
		b = append(b, l...)
	}
	if err := os.WriteFile(filepath.Join(dir, layout.SegmentsDir, layout.SegmentName(uint64(at), false)), b, 0o644); err != nil {
		t.Fatal(err)
	}
}
