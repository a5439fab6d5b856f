package verify_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/sealog/sealog/verify"
)

// TestCounters: the report's counts agree with each other and with what
// was done to the log (issue 8, item 9). The log has batches of 4.
func TestCounters(t *testing.T) {
	type counts struct{ changed, missing, inserted, reordered, auth uint64 }
	cases := []struct {
		name   string
		tamper func(t *testing.T, dir string)
		first  uint64
		want   counts
	}{
		{"a line deleted", func(t *testing.T, dir string) {
			segs := readSegs(t, dir)
			i, j := locate(t, segs, 9)
			segs[i].lines = append(segs[i].lines[:j], segs[i].lines[j+1:]...)
			writeSegs(t, segs)
		}, 9, counts{missing: 1, auth: 8}},
		{"three lines deleted", func(t *testing.T, dir string) {
			segs := readSegs(t, dir)
			i, j := locate(t, segs, 9)
			segs[i].lines = append(segs[i].lines[:j], segs[i].lines[j+3:]...)
			writeSegs(t, segs)
		}, 9, counts{missing: 3, auth: 8}},
		{"an edit at seq 5: the signature over 0-3 still authenticates", func(t *testing.T, dir string) {
			editLine(t, dir, 5, `"n":5`, `"n":6`)
		}, 5, counts{changed: 1, auth: 4}},
		{"an edit at seq 7, which ends a batch", func(t *testing.T, dir string) {
			editLine(t, dir, 7, `"n":7`, `"n":8`)
		}, 7, counts{changed: 1, auth: 4}},
		{"a line duplicated", func(t *testing.T, dir string) {
			segs := readSegs(t, dir)
			i, j := locate(t, segs, 9)
			segs[i].lines = append(segs[i].lines[:j+1], segs[i].lines[j:]...)
			writeSegs(t, segs)
		}, 9, counts{inserted: 1, auth: 8}},
		{"two lines swapped", func(t *testing.T, dir string) {
			segs := readSegs(t, dir)
			i, j := locate(t, segs, 9)
			segs[i].lines[j], segs[i].lines[j+1] = segs[i].lines[j+1], segs[i].lines[j]
			writeSegs(t, segs)
		}, 9, counts{reordered: 1, auth: 8}},
		{"a seq changed to 2^64-1 (no wraparound)", func(t *testing.T, dir string) {
			editLine(t, dir, 9, `{"seq":9,`, `{"seq":18446744073709551615,`)
		}, 9, counts{changed: 1, auth: 8}},
		{"a seq changed to the largest there is", func(t *testing.T, dir string) {
			editLine(t, dir, 9, `{"seq":9,`, `{"seq":9223372036854775806,`)
		}, 9, counts{changed: 1, auth: 8}},
		{"the last line's seq changed to the largest there is", func(t *testing.T, dir string) {
			editLine(t, dir, 15, `{"seq":15,`, `{"seq":9223372036854775806,`)
		}, 15, counts{missing: 9223372036854775806 - 15, auth: 12}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := specLog(4, 4, 4, 4)
			dir := writeSpec(t, l, 8)
			tc.tamper(t, dir)
			for _, all := range []bool{false, true} {
				rep := run(t, dir, verify.Options{Key: l.VKey, AllSignatures: all})
				want(t, rep, verify.VerdictTampered, &tc.first)
				got := counts{rep.Changed, rep.Missing, rep.Inserted, rep.Reordered, rep.Authenticated}
				if got != tc.want {
					t.Fatalf("all=%v: counts %+v, want %+v: %s", all, got, tc.want, dump(rep))
				}
				if rep.Entries > 17 || rep.Unsigned != 0 && rep.Unsigned > rep.Entries {
					t.Fatalf("entries %d unsigned %d: %s", rep.Entries, rep.Unsigned, dump(rep))
				}
			}
		})
	}
}

// TestSignatureCounts: verified and failed are counted apart, and a valid
// log checked in full counts every signature verified.
func TestSignatureCounts(t *testing.T) {
	l := specLog(4, 4, 4, 4)
	dir := writeSpec(t, l, 8)
	rep := run(t, dir, verify.Options{Key: l.VKey, AllSignatures: true, Checkpoints: [][]byte{l.Notes[8]}})
	want(t, rep, verify.VerdictValid, nil)
	if rep.Signatures != 4+2 || rep.SignaturesFailed != 0 || rep.SignaturesUnchecked != 0 {
		t.Fatalf("%s", dump(rep))
	}
	rep = run(t, dir, verify.Options{Key: l.VKey})
	if rep.Signatures != 2 || rep.SignaturesUnchecked != 3 {
		t.Fatalf("%s", dump(rep))
	}
	editLine(t, dir, 13, `"n":13`, `"n":31`)
	rep = run(t, dir, verify.Options{Key: l.VKey})
	want(t, rep, verify.VerdictTampered, ptr(13))
	// The signature on 16 fails; the one on 12 verifies, and so does the
	// checkpoint file's (its root does not match the entries); 4 and 8
	// are not needed.
	if rep.Signatures != 2 || rep.SignaturesFailed != 1 || rep.SignaturesUnchecked != 2 || rep.Authenticated != 12 {
		t.Fatalf("%s", dump(rep))
	}
}

// TestTruncationCoverage: a trusted checkpoint rules out truncation only
// up to its size, and the report says which entries it leaves out (issue
// 8, item 10).
func TestTruncationCoverage(t *testing.T) {
	l := specLog(4, 4, 4, 4)
	dir := writeSpec(t, l, 0)
	rep := run(t, dir, verify.Options{Key: l.VKey, Checkpoints: [][]byte{l.Notes[8]}})
	want(t, rep, verify.VerdictValid, nil)
	if !rep.TruncationChecked || rep.TruncationCheckedTo != 8 {
		t.Fatalf("%s", dump(rep))
	}
	var b bytes.Buffer
	rep.WriteText(&b, verify.TextOptions{})
	if !strings.Contains(b.String(), "ruled out up to size 8; entries 8 to 15 are not covered") {
		t.Fatalf("%s", b.String())
	}
	rep = run(t, dir, verify.Options{Key: l.VKey, Checkpoints: [][]byte{l.Notes[16]}})
	b.Reset()
	rep.WriteText(&b, verify.TextOptions{})
	if rep.TruncationCheckedTo != 16 || !strings.Contains(b.String(), "truncation:     ruled out: the log holds every entry") {
		t.Fatalf("%s", b.String())
	}
}
