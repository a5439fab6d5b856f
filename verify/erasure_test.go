package verify_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/internal/speclog"
	"github.com/sealog/sealog/verify"
)

// TestErasure: an erased entry is legitimate only when a live erasure
// record later in the log, covered by a verified signature, names its seq
// and body hash (docs/FORMAT.md section 5). Every other erased form is a
// forged erasure: tampering, located at the entry (issue 8, item 1).
func TestErasure(t *testing.T) {
	record := func(l *speclog.Log, seq uint64, h format.Hash) []byte {
		return format.AppendErasureEvent(nil, seq, h, "", "GDPR request 42")
	}
	cases := []struct {
		name    string
		build   func(l *speclog.Log)
		verdict string
		first   *uint64
		erased  int
		forged  int
	}{
		{"erased by the writer", func(l *speclog.Log) { l.Erase(3, "GDPR request 42") }, verify.VerdictValid, nil, 1, 0},
		{"a signed line erased by the writer", func(l *speclog.Log) { l.Erase(5, "r") }, verify.VerdictValid, nil, 1, 0},
		{"two erasures, records in one batch", func(l *speclog.Log) {
			l.AppendEvents(record(l, 2, l.BodyHash(2)), record(l, 6, l.BodyHash(6)))
			l.EraseLine(2)
			l.EraseLine(6)
		}, verify.VerdictValid, nil, 2, 0},
		{"erased without a record (item 1)", func(l *speclog.Log) { l.EraseLine(3) }, verify.VerdictTampered, ptr(3), 0, 1},
		{"a signed line erased without a record", func(l *speclog.Log) { l.EraseLine(5) }, verify.VerdictTampered, ptr(5), 0, 1},
		{"the record names another body hash", func(l *speclog.Log) {
			l.AppendEvents(record(l, 3, l.BodyHash(4)))
			l.EraseLine(3)
		}, verify.VerdictTampered, ptr(3), 0, 1},
		{"the record names another entry", func(l *speclog.Log) {
			l.AppendEvents(record(l, 4, l.BodyHash(4)))
			l.EraseLine(3)
		}, verify.VerdictTampered, ptr(3), 0, 1},
		{"the record itself erased", func(l *speclog.Log) {
			l.Erase(3, "r")
			l.EraseLine(l.Size() - 1)
		}, verify.VerdictTampered, ptr(3), 0, 2},
		{"the record in an unsigned tail", func(l *speclog.Log) {
			l.AppendUnsigned(record(l, 3, l.BodyHash(3)))
			l.EraseLine(3)
		}, verify.VerdictTampered, ptr(3), 0, 1},
		{"a record of another form", func(l *speclog.Log) {
			ev := bytes.Replace(record(l, 3, l.BodyHash(3)), []byte(`"reason":`), []byte(`"reason": `), 1)
			l.AppendEvents(ev)
			l.EraseLine(3)
		}, verify.VerdictTampered, ptr(3), 0, 1},
		{"an erasure in progress (record, entry not erased yet)", func(l *speclog.Log) {
			l.AppendEvents(record(l, 3, l.BodyHash(3)))
		}, verify.VerdictValid, nil, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := specLog(2, 2, 2, 2, 2)
			tc.build(l)
			dir := writeSpec(t, l, 4)
			for _, opts := range []verify.Options{
				{Key: l.VKey},
				{Key: l.VKey, AllSignatures: true, Checkpoints: [][]byte{l.Checkpoint()}},
				{}, // the key from the log
			} {
				rep := run(t, dir, opts)
				want(t, rep, tc.verdict, tc.first)
				if rep.Erased != tc.erased || rep.ForgedErasures != tc.forged {
					t.Fatalf("erased %d, forged %d; want %d, %d: %s", rep.Erased, rep.ForgedErasures, tc.erased, tc.forged, dump(rep))
				}
				if tc.forged > 0 && (rep.FirstProblem.Kind != "erasure" || rep.Changed != uint64(tc.forged)) {
					t.Fatalf("want a forged erasure counted changed: %s", dump(rep))
				}
			}
		})
	}
}

// TestErasureWrongKey: with a key that signed nothing in the log, no
// record can be authenticated, and none is held against the log: the
// verdict is the wrong key, not tampering.
func TestErasureWrongKey(t *testing.T) {
	l := specLog(2, 2, 2)
	l.Erase(1, "r")
	_, other := speclog.Keys("another", "test.example/audit")
	rep := run(t, writeSpec(t, l, 0), verify.Options{Key: other})
	want(t, rep, verify.VerdictWrongKey, nil)
	if rep.ForgedErasures != 0 || rep.Changed != 0 {
		t.Fatalf("%s", dump(rep))
	}
}

// TestErasureLimit: beyond Options.MaxErased the log is not called valid
// (incomplete), and not tampered either.
func TestErasureLimit(t *testing.T) {
	l := specLog(4, 4)
	for seq := uint64(0); seq < 3; seq++ {
		l.Erase(seq, "r")
	}
	dir := writeSpec(t, l, 0)
	rep := run(t, dir, verify.Options{Key: l.VKey, MaxErased: 2})
	want(t, rep, verify.VerdictIncomplete, nil)
	if !strings.Contains(dump(rep), "MaxErased") {
		t.Fatalf("%s", dump(rep))
	}
	want(t, run(t, dir, verify.Options{Key: l.VKey, MaxErased: 3}), verify.VerdictValid, nil)
}
