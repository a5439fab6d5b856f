package verify_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/store/file"
	"github.com/sealog/sealog/verify"
)

// rotatedLog is a log signed by three keys: entries 0-29 in batches of 4
// and the rotation record 30 by keys[0]; 31-42 and the rotation record 43
// by keys[1]; 44-47 by keys[2].
type rotatedLog struct {
	dir   string
	keys  [3]*sealog.Key
	texts map[uint64][]byte // checkpoint text at each batch end (size)
}

func newRotatedLog(t *testing.T) *rotatedLog {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rl := &rotatedLog{dir: filepath.Join(t.TempDir(), "log"), texts: map[uint64][]byte{}}
	for i := range rl.keys {
		skey, _ := testkit.Keys(fmt.Sprintf("rotation%d", i), "test.example/audit")
		k, err := sealog.ParseKey(skey)
		if err != nil {
			t.Fatal(err)
		}
		rl.keys[i] = k
	}
	l, err := sealog.Open(rl.dir, sealog.Options{Key: rl.keys[0], File: file.Options{SegmentSize: 4096},
		Clock: testkit.Clock(time.Millisecond), Rand: testkit.Rand("rotated")})
	if err != nil {
		t.Fatal(err)
	}
	note := func(r sealog.Receipt) {
		c, err := checkpoint.ParseUnverified([]byte(r.Checkpoint))
		if err != nil {
			t.Fatal(err)
		}
		rl.texts[c.Size] = c.Text()
	}
	appendTo := func(from, to int) {
		for i := from; i < to; i += 4 {
			var evs []sealog.Event
			for j := i; j < min(i+4, to); j++ {
				evs = append(evs, sealog.Event{Kind: "doc.read", Actor: "alice", Payload: map[string]any{"n": j}})
			}
			rs, err := l.AppendBatch(ctx, evs)
			if err != nil {
				t.Fatal(err)
			}
			note(rs[0])
		}
	}
	rotate := func(k *sealog.Key) {
		r, err := l.Rotate(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		note(r)
	}
	appendTo(0, 30)
	rotate(rl.keys[1])
	appendTo(31, 43)
	rotate(rl.keys[2])
	appendTo(44, 48)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return rl
}

// resign replaces the batch signature on entry seq by k's signature on
// the same checkpoint.
func (rl *rotatedLog) resign(t *testing.T, seq uint64, k *sealog.Key) {
	t.Helper()
	text := rl.texts[seq+1]
	if text == nil {
		t.Fatalf("no batch ends at entry %d", seq)
	}
	sig, err := checkpoint.SignText(text, k.Signer())
	if err != nil {
		t.Fatal(err)
	}
	segs := readSegs(t, rl.dir)
	i, j := locate(t, segs, int(seq))
	l := segs[i].lines[j]
	at := bytes.Index(l, []byte(`,"sig":"`))
	if at < 0 {
		t.Fatalf("entry %d carries no signature", seq)
	}
	segs[i].lines[j] = append(append([]byte(nil), l[:at]...), `,"sig":"`+base64.StdEncoding.EncodeToString(sig)+`"}`+"\n"...)
	writeSegs(t, segs)
}

func (rl *rotatedLog) vkey(i int) string { return rl.keys[i].VerifierKey() }

func TestRotatedLogValid(t *testing.T) {
	rl := newRotatedLog(t)
	for _, c := range []struct {
		name string
		opts verify.Options
	}{
		{"first key", verify.Options{Key: rl.vkey(0)}},
		{"middle key", verify.Options{Key: rl.vkey(1)}},
		{"last key", verify.Options{Key: rl.vkey(2)}},
		{"a set of keys", verify.Options{Keys: []string{rl.vkey(2), rl.vkey(0)}}},
		{"every signature", verify.Options{Key: rl.vkey(0), AllSignatures: true}},
		{"key from the log", verify.Options{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep, err := verify.Verify(context.Background(), verify.Dir(rl.dir), c.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Valid {
				t.Fatalf("an intact rotated log is %s: %+v", rep.Verdict, rep.Problems)
			}
			want := []struct{ first, last uint64 }{{0, 30}, {31, 43}, {44, 47}}
			if len(rep.Keys) != 3 {
				t.Fatalf("keys = %+v, want three", rep.Keys)
			}
			for i, w := range want {
				k := rep.Keys[i]
				if k.Key != rl.vkey(i) || k.First != w.first || k.Last == nil || *k.Last != w.last {
					t.Errorf("key %d = %+v, want %s for %d-%d", i, k, rl.vkey(i), w.first, w.last)
				}
			}
		})
	}
}

func TestRotationTampered(t *testing.T) {
	other, _ := testkit.Keys("rotation-other", "test.example/audit")
	ok, err := sealog.ParseKey(other)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		tamper func(t *testing.T, rl *rotatedLog)
		key    int
		first  uint64
		kind   string
	}{
		// The new key signs the rotation to itself: nothing hands over.
		{"rotation signed by the new key", func(t *testing.T, rl *rotatedLog) { rl.resign(t, 30, rl.keys[1]) }, 0, 30, "rotation"},
		{"rotation signed by another key", func(t *testing.T, rl *rotatedLog) { rl.resign(t, 43, ok) }, 0, 43, "rotation"},
		{"rotation removed", func(t *testing.T, rl *rotatedLog) {
			segs := readSegs(t, rl.dir)
			i, j := locate(t, segs, 30)
			segs[i].lines = append(segs[i].lines[:j], segs[i].lines[j+1:]...)
			writeSegs(t, segs)
		}, 0, 30, "gap"},
		{"rotation names another key", func(t *testing.T, rl *rotatedLog) {
			editLine(t, rl.dir, 30, rl.vkey(1), ok.VerifierKey())
		}, 0, 30, ""},
		// A batch before the rotation signed by the key it hands over to.
		{"new key signs before its turn", func(t *testing.T, rl *rotatedLog) { rl.resign(t, 29, rl.keys[1]) }, 0, 29, "signature"},
		{"unauthorised key in the middle", func(t *testing.T, rl *rotatedLog) { rl.resign(t, 38, ok) }, 1, 38, "signature"},
		// The old key, after it was rotated out, signs the newest batch
		// (the checkpoint file, by the new key, still proves the entries).
		{"old key signs after the rotation", func(t *testing.T, rl *rotatedLog) { rl.resign(t, 47, rl.keys[0]) }, 0, 47, "signature"},
		{"unauthorised key at the end", func(t *testing.T, rl *rotatedLog) { rl.resign(t, 47, ok) }, 2, 47, "signature"},
		// Without the checkpoint file, the whole batch is in doubt.
		{"old key extends the log", func(t *testing.T, rl *rotatedLog) {
			rl.resign(t, 47, rl.keys[0])
			if err := os.Remove(filepath.Join(rl.dir, "checkpoint")); err != nil {
				t.Fatal(err)
			}
		}, 0, 44, "signature"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rl := newRotatedLog(t)
			c.tamper(t, rl)
			for _, all := range []bool{false, true} {
				rep, err := verify.Verify(context.Background(), verify.Dir(rl.dir), verify.Options{Key: rl.vkey(c.key), AllSignatures: all})
				if err != nil {
					t.Fatal(err)
				}
				if rep.Valid || rep.Verdict != verify.VerdictTampered {
					t.Fatalf("all=%v: verdict %s, want tampered: %+v", all, rep.Verdict, rep.Problems)
				}
				if rep.FirstInvalid == nil || *rep.FirstInvalid != c.first {
					t.Fatalf("all=%v: first invalid %v, want %d: %+v", all, rep.FirstInvalid, c.first, rep.Problems)
				}
				if c.kind != "" && rep.FirstProblem.Kind != c.kind {
					t.Errorf("all=%v: first problem %+v, want kind %s", all, rep.FirstProblem, c.kind)
				}
			}
		})
	}
}

// A key that is not in the chain at all: the log is not signed by it.
func TestRotatedLogWrongKey(t *testing.T) {
	rl := newRotatedLog(t)
	other, _ := testkit.Keys("rotation-other", "test.example/audit")
	ok, _ := sealog.ParseKey(other)
	rep, err := verify.Verify(context.Background(), verify.Dir(rl.dir), verify.Options{Key: ok.VerifierKey()})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Valid || rep.Verdict != verify.VerdictWrongKey {
		t.Fatalf("verdict %s, want wrong-key: %+v", rep.Verdict, rep.Problems)
	}
}

// A checkpoint saved after the rotation is signed by the new key; an
// auditor who trusts the first key can still use it.
func TestRotatedTrustedCheckpoint(t *testing.T) {
	rl := newRotatedLog(t)
	ck, err := checkpoint.Sign(mustParse(t, rl.texts[48]), rl.keys[2].Signer())
	if err != nil {
		t.Fatal(err)
	}
	rep, err := verify.Verify(context.Background(), verify.Dir(rl.dir), verify.Options{Key: rl.vkey(0), Checkpoints: [][]byte{ck}})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Valid || !rep.TruncationChecked || rep.TruncationCheckedTo != 48 {
		t.Fatalf("verdict %s, truncation checked %v to %d: %+v", rep.Verdict, rep.TruncationChecked, rep.TruncationCheckedTo, rep.Problems)
	}
	other, _ := testkit.Keys("rotation-other", "test.example/audit")
	ok, _ := sealog.ParseKey(other)
	bad, _ := checkpoint.Sign(mustParse(t, rl.texts[48]), ok.Signer())
	if _, err := verify.Verify(context.Background(), verify.Dir(rl.dir), verify.Options{Key: rl.vkey(0), Checkpoints: [][]byte{bad}}); err == nil {
		t.Fatal("a checkpoint by a key outside the chain was accepted")
	}
}

func mustParse(t *testing.T, text []byte) checkpoint.Checkpoint {
	t.Helper()
	c, err := checkpoint.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
