package verify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/tree"
	"github.com/sealog/sealog/verify"
)

// The tamper matrix: every way of changing a log that the issue lists,
// each detected, with the first invalid seq where it should be. The log
// has 40 entries in batches of 4 (signatures on entries 3, 7, 11, ...) in
// segments of about 4 KiB.
func TestTamperMatrix(t *testing.T) {
	const n, batch = 40, 4
	cases := []struct {
		name   string
		tamper func(t *testing.T, tl *testLog) verify.Options
		first  *uint64 // nil: no entry is at fault (a checkpoint is)
		kind   string  // kind of the problem at first_invalid
	}{
		{"body changed", func(t *testing.T, tl *testLog) verify.Options {
			editLine(t, tl.dir, 17, `"n":17`, `"n":71`)
			return verify.Options{}
		}, ptr(17), "content"},
		{"actor changed", func(t *testing.T, tl *testLog) verify.Options {
			editLine(t, tl.dir, 17, `"actor":"user2@`, `"actor":"user9@`)
			return verify.Options{}
		}, ptr(17), "content"},
		{"header seq changed", func(t *testing.T, tl *testLog) verify.Options {
			// The next line is entry 18: this line is entry 17 with its seq
			// changed, not a gap and a duplicate.
			editLine(t, tl.dir, 17, `{"seq":17,`, `{"seq":18,`)
			return verify.Options{}
		}, ptr(17), "seq"},
		{"header time changed", func(t *testing.T, tl *testLog) verify.Options {
			segs := readSegs(t, tl.dir)
			i, j := locate(t, segs, 17)
			l := segs[i].lines[j]
			k := bytes.Index(l, []byte(`Z","prev"`)) - 1 // last nanosecond digit
			l[k] = '0' + (l[k]-'0'+1)%10
			writeSegs(t, segs)
			return verify.Options{}
		}, ptr(17), "content"},
		{"header prev changed", func(t *testing.T, tl *testLog) verify.Options {
			segs := readSegs(t, tl.dir)
			i, j := locate(t, segs, 17)
			l := segs[i].lines[j]
			k := bytes.Index(l, []byte(`"prev":"`)) + 8
			l[k] = "01"[(l[k]-'0'+1)%2] // any other hex digit
			if l[k] == l[k+1] {
				l[k] = 'f'
			}
			writeSegs(t, segs)
			return verify.Options{}
		}, ptr(17), "chain"},
		{"line deleted", func(t *testing.T, tl *testLog) verify.Options {
			segs := readSegs(t, tl.dir)
			i, j := locate(t, segs, 17)
			segs[i].lines = append(segs[i].lines[:j], segs[i].lines[j+1:]...)
			writeSegs(t, segs)
			return verify.Options{}
		}, ptr(17), "gap"},
		{"line inserted", func(t *testing.T, tl *testLog) verify.Options {
			// A forged entry that claims seq 17, chained to entry 16 like
			// the real one, inserted before it.
			segs := readSegs(t, tl.dir)
			i, j := locate(t, segs, 17)
			forged := bytes.Replace(segs[i].lines[j], []byte(`"n":17`), []byte(`"n":99`), 1)
			segs[i].lines = append(segs[i].lines[:j], append([][]byte{forged}, segs[i].lines[j:]...)...)
			writeSegs(t, segs)
			return verify.Options{}
		}, ptr(17), "duplicate"},
		{"two lines swapped", func(t *testing.T, tl *testLog) verify.Options {
			segs := readSegs(t, tl.dir)
			i, j := locate(t, segs, 17)
			i2, j2 := locate(t, segs, 18)
			segs[i].lines[j], segs[i2].lines[j2] = segs[i2].lines[j2], segs[i].lines[j]
			writeSegs(t, segs)
			return verify.Options{}
		}, ptr(17), "order"},
		{"line duplicated", func(t *testing.T, tl *testLog) verify.Options {
			segs := readSegs(t, tl.dir)
			i, j := locate(t, segs, 17)
			segs[i].lines = append(segs[i].lines[:j+1], segs[i].lines[j:]...)
			writeSegs(t, segs)
			return verify.Options{}
		}, ptr(17), "duplicate"},
		{"tail cut, own checkpoint", func(t *testing.T, tl *testLog) verify.Options {
			cutAfter(t, tl.dir, 30)
			return verify.Options{}
		}, ptr(31), "truncated"},
		{"tail cut with checkpoint, trusted checkpoint", func(t *testing.T, tl *testLog) verify.Options {
			cutAfter(t, tl.dir, 31) // a batch boundary: entry 31 carries a signature
			rollCheckpoint(t, tl, 32)
			return verify.Options{Checkpoints: [][]byte{tl.checkpoints[len(tl.checkpoints)-1]}}
		}, ptr(32), "truncated"},
		{"checkpoint forged", func(t *testing.T, tl *testLog) verify.Options {
			path := filepath.Join(tl.dir, layout.CheckpointFile)
			b, _ := os.ReadFile(path)
			lines := strings.SplitN(string(b), "\n", 3)
			lines[1] = "41"
			os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644)
			return verify.Options{}
		}, nil, "checkpoint"},
		{"rewritten and re-signed with another key", func(t *testing.T, tl *testLog) verify.Options {
			rewriteFrom(t, tl, 17)
			return verify.Options{}
		}, ptr(16), "signature"},
		{"checkpoint rolled back with the tail, trusted checkpoint", func(t *testing.T, tl *testLog) verify.Options {
			cutAfter(t, tl.dir, 23)
			rollCheckpoint(t, tl, 24)
			return verify.Options{Checkpoints: [][]byte{tl.checkpoints[7]}} // size 32, saved by an auditor
		}, ptr(24), "truncated"},
		{"segment removed", func(t *testing.T, tl *testLog) verify.Options {
			names := segmentNames(t, tl.dir)
			os.Remove(filepath.Join(tl.dir, layout.SegmentsDir, names[1]))
			return verify.Options{}
		}, nil, "gap"}, // first is set below from the removed segment's name
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tl := newTestLog(t, n, batch)
			opts := tc.tamper(t, tl)
			opts.Key = tl.vkey // the auditor's own copy of the key
			first := tc.first
			if tc.name == "segment removed" {
				first = ptr(secondSegmentFirstSeq(t, tl))
			}
			rep, err := verify.Verify(context.Background(), verify.Dir(tl.dir), opts)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Valid {
				t.Fatalf("tampering not detected: %s", dump(rep))
			}
			if !eqPtr(rep.FirstInvalid, first) {
				t.Fatalf("first_invalid = %v, want %v: %s", show(rep.FirstInvalid), show(first), dump(rep))
			}
			// A time changed backwards is also a time going backwards: both
			// name entry 17, whichever is found first.
			if tc.name == "header time changed" && rep.FirstProblem != nil && rep.FirstProblem.Kind == "time" {
				return
			}
			if rep.FirstProblem == nil || rep.FirstProblem.Kind != tc.kind {
				t.Fatalf("first problem %+v, want kind %q: %s", rep.FirstProblem, tc.kind, dump(rep))
			}
		})
	}
}

// TestUntouchedLogs checks that logs written in every batch shape verify,
// and that truncation is ruled out only with an outside checkpoint.
func TestUntouchedLogs(t *testing.T) {
	for _, batch := range []int{1, 3, 40} {
		tl := newTestLog(t, 40, batch)
		rep, err := verify.Verify(context.Background(), verify.Dir(tl.dir), verify.Options{Key: tl.vkey})
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Valid || rep.Entries != 40 || rep.Authenticated != 40 || !rep.ChainIntact || rep.TruncationChecked || rep.KeyFromLog {
			t.Fatalf("batch %d: %s", batch, dump(rep))
		}
		rep, err = verify.Verify(context.Background(), verify.Dir(tl.dir), verify.Options{Key: tl.vkey, AllSignatures: true,
			Checkpoints: [][]byte{tl.checkpoints[0], tl.checkpoints[len(tl.checkpoints)-1]}})
		if err != nil {
			t.Fatal(err)
		}
		wantSigs := (40+batch-1)/batch + 3 // every batch, the file, two trusted
		if !rep.Valid || !rep.TruncationChecked || rep.Signatures != wantSigs {
			t.Fatalf("batch %d, all signatures: %d signatures, want %d: %s", batch, rep.Signatures, wantSigs, dump(rep))
		}
		rep, err = verify.Verify(context.Background(), verify.Dir(tl.dir), verify.Options{})
		if err != nil || !rep.Valid || !rep.KeyFromLog {
			t.Fatalf("with the log's own key: %v %s", err, dump(rep))
		}
	}
}

// TestWrongKey: a key that did not sign the log fails every signature.
func TestWrongKey(t *testing.T) {
	tl := newTestLog(t, 8, 4)
	_, other, _ := sealog.GenerateKey("test.example/audit")
	rep, err := verify.Verify(context.Background(), verify.Dir(tl.dir), verify.Options{Key: other})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Valid || rep.Authenticated != 0 {
		t.Fatalf("verified with the wrong key: %s", dump(rep))
	}
	_, other, _ = sealog.GenerateKey("other.example/audit")
	rep, err = verify.Verify(context.Background(), verify.Dir(tl.dir), verify.Options{Key: other})
	if err != nil || rep.Valid || rep.FirstProblem == nil || !strings.Contains(rep.FirstProblem.Reason, `is for "other.example/audit"`) {
		t.Fatalf("wrong origin: %v %s", err, dump(rep))
	}
}

func cutAfter(t *testing.T, dir string, last int) {
	t.Helper()
	segs := readSegs(t, dir)
	i, j := locate(t, segs, last)
	segs[i].lines = segs[i].lines[:j+1]
	for _, s := range segs[i+1:] {
		os.Remove(s.path)
	}
	writeSegs(t, segs[:i+1])
}

// rollCheckpoint replaces the checkpoint file with the log's own signed
// checkpoint for its first size entries (size must end a batch).
func rollCheckpoint(t *testing.T, tl *testLog, size int) {
	t.Helper()
	for _, c := range tl.checkpoints {
		cc, _ := checkpoint.ParseUnverified(c)
		if cc.Size == uint64(size) {
			os.WriteFile(filepath.Join(tl.dir, layout.CheckpointFile), c, 0o644)
			return
		}
	}
	t.Fatalf("no checkpoint at size %d", size)
}

// rewriteFrom changes entry seq and re-seals the log from there with a key
// of the attacker's own, as someone who can write the files but does not
// hold the log's key would: new body, new chain, new tree, new batch
// signatures, new checkpoint file, and their key in sealog.json.
func rewriteFrom(t *testing.T, tl *testLog, seq uint64) {
	t.Helper()
	skey, vkey, _ := note.GenerateKey(nil, "test.example/audit")
	signer, _ := note.NewSigner(skey)
	segs := readSegs(t, tl.dir)
	var edge tree.Edge
	var prev format.Hash
	for si := range segs {
		for li, raw := range segs[si].lines {
			l, err := format.ParseLine(raw[:len(raw)-1])
			if err != nil {
				t.Fatal(err)
			}
			if l.Seq == seq {
				l.Event = bytes.Replace(l.Event, []byte(fmt.Sprintf(`"n":%d`, seq)), []byte(`"n":999`), 1)
			}
			if l.Seq >= seq {
				l.Prev = prev
			}
			h := l.Header()
			prev = h.LeafHash()
			edge.Append(prev, nil)
			if l.Sig != nil && l.Seq >= seq {
				text := checkpoint.Checkpoint{Origin: "test.example/audit", Size: l.Seq + 1, Root: edge.Root()}.Text()
				if l.Sig, err = checkpoint.SignText(text, signer); err != nil {
					t.Fatal(err)
				}
			}
			segs[si].lines[li] = format.AppendLine(nil, &l)
		}
	}
	writeSegs(t, segs)
	ck, _ := checkpoint.Sign(checkpoint.Checkpoint{Origin: "test.example/audit", Size: edge.Size(), Root: edge.Root()}, signer)
	os.WriteFile(filepath.Join(tl.dir, layout.CheckpointFile), ck, 0o644)
	m, _ := layout.ReadMetadata(tl.dir)
	m.Key = vkey
	b, _ := json.Marshal(m)
	os.WriteFile(filepath.Join(tl.dir, layout.MetadataFile), b, 0o644)
}

func secondSegmentFirstSeq(t *testing.T, tl *testLog) uint64 {
	// The segment was removed; its successor's name says where the gap ends,
	// and the removed one's name where it starts. Recompute from a fresh log
	// with the same shape.
	names := segmentNames(t, newTestLog(t, 40, 4).dir)
	first, _, _ := layout.ParseSegmentName(names[1])
	return first
}

func ptr(v uint64) *uint64 { return &v }

func eqPtr(a, b *uint64) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }

func show(p *uint64) any {
	if p == nil {
		return nil
	}
	return *p
}

func dump(rep *verify.Report) string {
	b, _ := json.MarshalIndent(rep, "", "  ")
	return string(b)
}

// TestRollbackNeedsAnOutsideCheckpoint: cutting entries off the end
// together with the checkpoint file leaves a valid, shorter log; only a
// checkpoint kept outside the log shows it, and the report says so.
func TestRollbackNeedsAnOutsideCheckpoint(t *testing.T) {
	tl := newTestLog(t, 40, 4)
	cutAfter(t, tl.dir, 23)
	rollCheckpoint(t, tl, 24)
	rep, err := verify.Verify(context.Background(), verify.Dir(tl.dir), verify.Options{Key: tl.vkey})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Valid || rep.TruncationChecked || rep.Entries != 24 {
		t.Fatalf("without an outside checkpoint: %s", dump(rep))
	}
	if !strings.Contains(strings.Join(rep.Warnings, "\n"), "truncation not ruled out") {
		t.Fatalf("the report does not say truncation was not ruled out: %v", rep.Warnings)
	}
	rep, err = verify.Verify(context.Background(), verify.Dir(tl.dir), verify.Options{Key: tl.vkey, Checkpoints: [][]byte{tl.checkpoints[9]}})
	if err != nil || rep.Valid || !rep.Truncated || !rep.TruncationChecked || *rep.FirstInvalid != 24 {
		t.Fatalf("with an outside checkpoint: %v %s", err, dump(rep))
	}
}
