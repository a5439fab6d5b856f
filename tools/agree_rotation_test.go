package tools_test

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/internal/speclog"
)

// rotated builds a log of batches of 2 whose key is rotated twice: the
// rotation records are entries 6 and 11 (alone in their batches); f may
// change the log (a batch signed by another key) before it is written.
func rotated(t *testing.T, f func(l *speclog.Log)) (*speclog.Log, string) {
	t.Helper()
	l := speclog.New("agree-rot", "agree.example/audit")
	for range 3 {
		l.Append(2)
	}
	l.Rotate("agree-rot-1")
	for range 2 {
		l.Append(2)
	}
	l.Rotate("agree-rot-2")
	l.Append(2)
	if f != nil {
		f(l)
	}
	dir := filepath.Join(t.TempDir(), "log")
	if err := l.Write(dir, speclog.WriteOptions{SegmentEntries: 4}); err != nil {
		t.Fatal(err)
	}
	return l, dir
}

func rotCase(name string, f func(l *speclog.Log), g func(t *testing.T, l *speclog.Log, dir string) opts, verdict string, first *uint64) agreeCase {
	return agreeCase{name, func(t *testing.T) (string, opts) {
		l, dir := rotated(t, f)
		return dir, g(t, l, dir)
	}, verdict, first}
}

// signedBy makes the next batch of n entries signed by the key from seed
// instead of the log's, as someone holding that key would.
func signedBy(l *speclog.Log, seed string, n int) {
	s, _ := speclog.Keys(seed, l.Origin)
	own := l.Signer
	l.Signer = s
	l.Append(n)
	l.Signer = own
}

// TestAgreeRotation: issue 15's rotation cases, on both verifiers.
func TestAgreeRotation(t *testing.T) {
	key := func(i int) func(*testing.T, *speclog.Log, string) opts {
		return func(_ *testing.T, l *speclog.Log, _ string) opts { return opts{key: l.VKeys[i]} }
	}
	runAgree(t, []agreeCase{
		rotCase("intact, first key", nil, key(0), valid, nil),
		rotCase("intact, middle key", nil, key(1), valid, nil),
		rotCase("intact, last key", nil, key(2), valid, nil),
		rotCase("intact, every signature", nil, func(_ *testing.T, l *speclog.Log, _ string) opts { return opts{key: l.VKeys[0], all: true} }, valid, nil),
		rotCase("intact, a set of keys", nil, func(_ *testing.T, l *speclog.Log, _ string) opts {
			return opts{keys: []string{l.VKeys[2], l.VKeys[0]}}
		}, valid, nil),
		rotCase("intact, the log's key", nil, func(*testing.T, *speclog.Log, string) opts { return opts{} }, valid, nil),
		rotCase("intact, a key outside the chain", nil, func(*testing.T, *speclog.Log, string) opts {
			_, v := speclog.Keys("stranger", "agree.example/audit")
			return opts{key: v}
		}, wrongKey, nil),
		rotCase("intact, checkpoint by the last key", nil, func(_ *testing.T, l *speclog.Log, _ string) opts {
			return opts{key: l.VKeys[0], cps: [][]byte{l.Checkpoint()}}
		}, valid, nil),
		rotCase("rotation removed", nil, func(t *testing.T, l *speclog.Log, dir string) opts {
			editSeg(t, dir, 4, string(l.Lines[6]), "")
			return opts{key: l.VKeys[0]}
		}, tampered, u(6)),
		rotCase("rotation forged: signed by the key it names", func(l *speclog.Log) {
			s, v := speclog.Keys("forger", l.Origin)
			l.Signer = s // the forger signs its own rotation, and every batch after
			l.AppendEvents(format.AppendRotationEvent(nil, v, l.VKey))
			l.VKey = v
			l.Append(2)
		}, key(0), tampered, u(14)),
		rotCase("unauthorised key signs a batch", func(l *speclog.Log) { signedBy(l, "stranger", 2); l.Append(1) }, key(0), tampered, u(15)),
		rotCase("old key signs after the rotation", func(l *speclog.Log) { signedBy(l, "agree-rot", 2) }, func(t *testing.T, l *speclog.Log, dir string) opts {
			os.Remove(filepath.Join(dir, "checkpoint"))
			return opts{key: l.VKeys[0]}
		}, tampered, u(14)),
		rotCase("new key signs before its turn", nil, func(t *testing.T, l *speclog.Log, dir string) opts {
			s, _ := speclog.Keys("agree-rot-1", l.Origin)
			resignLine(t, l, dir, 5, s)
			return opts{key: l.VKeys[0]}
		}, tampered, u(5)),
	})
}

// resignLine replaces the batch signature on entry seq, in the log's files,
// by s's signature on the same checkpoint.
func resignLine(t *testing.T, l *speclog.Log, dir string, seq uint64, s note.Signer) {
	t.Helper()
	c, err := checkpoint.ParseUnverified(l.Notes[seq+1])
	if err != nil {
		t.Fatal(err)
	}
	sig, err := checkpoint.SignText(c.Text(), s)
	if err != nil {
		t.Fatal(err)
	}
	old := l.Lines[seq]
	i := bytes.Index(old, []byte(`,"sig":"`))
	if i < 0 {
		t.Fatalf("entry %d carries no signature", seq)
	}
	line := string(old[:i]) + `,"sig":"` + base64.StdEncoding.EncodeToString(sig) + "\"}\n"
	for _, p := range segFiles(t, dir) {
		b, _ := os.ReadFile(p)
		if bytes.Contains(b, old) {
			if err := os.WriteFile(p, bytes.Replace(b, old, []byte(line), 1), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("entry %d not found in %s", seq, dir)
}

func segFiles(t *testing.T, dir string) []string {
	t.Helper()
	ps, err := filepath.Glob(filepath.Join(dir, "segments", "*.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// TestAgreeRotatedVector runs both verifiers on the rotated vector log
// (docs/FORMAT.md section 11) with each key of its chain and with the keys
// file: the same report, valid, the chain rotation.json gives.
func TestAgreeRotatedVector(t *testing.T) {
	need(t, "python3", "openssl", "zstd")
	dir := filepath.Join("..", "testdata", "vectors", "rotated")
	b, err := os.ReadFile(filepath.Join("..", "testdata", "vectors", "rotated.keys"))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		if len(l) > 0 && l[0] != '#' {
			keys = append(keys, string(l))
		}
	}
	for i, o := range []opts{{key: keys[0]}, {key: keys[1]}, {key: keys[2], all: true}, {keys: keys}} {
		py, g := both(t, dir, o)
		if g == nil || !g.Valid || len(py.Keys) != 3 || py.Keys[1].First != 6 || py.Keys[2].First != 10 {
			t.Fatalf("options %d: %s", i, brief(py))
		}
	}
}
