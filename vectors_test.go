package sealog_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/internal/vectors"
	"github.com/sealog/sealog/tree"
	"github.com/sealog/sealog/verify"
)

const vectorDir = "testdata/vectors"

func loadVectors(t *testing.T) *vectors.File {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(vectorDir, "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f vectors.File
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return &f
}

// TestVectorsUpToDate regenerates the vectors and compares them with the
// committed files byte for byte: any change to the format or the writer
// must come with regenerated vectors (go run testdata/vectors/gen.go).
func TestVectorsUpToDate(t *testing.T) {
	tmp := t.TempDir()
	if err := vectors.Generate(tmp); err != nil {
		t.Fatal(err)
	}
	err := filepath.WalkDir(tmp, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(tmp, p)
		got, _ := os.ReadFile(p)
		want, err := os.ReadFile(filepath.Join(vectorDir, rel))
		if err != nil {
			t.Errorf("%s: generated but not committed", rel)
			return nil
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what the generator writes: run go run testdata/vectors/gen.go", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestVectorEntries checks every entry vector against the format code.
func TestVectorEntries(t *testing.T) {
	f := loadVectors(t)
	for _, e := range f.Entries {
		t.Run(e.Name, func(t *testing.T) {
			var salt [format.SaltSize]byte
			hex.Decode(salt[:], []byte(e.Salt))
			payload, err := format.CompactPayload(nil, e.Payload)
			if err != nil {
				t.Fatal(err)
			}
			event, err := format.AppendEvent(nil, e.Kind, e.Actor, e.Resource, payload)
			if err != nil || string(event) != e.Event {
				t.Fatalf("event %s, %v; want %s", event, err, e.Event)
			}
			bh := format.BodyHash(&salt, event)
			if hex.EncodeToString(bh[:]) != e.BodyHash {
				t.Fatalf("body hash %x, want %s", bh, e.BodyHash)
			}
			l, err := format.ParseLine([]byte(e.Line))
			if err != nil {
				t.Fatal(err)
			}
			h := l.Header()
			enc := h.Encode()
			leaf := h.LeafHash()
			if l.Seq != e.Seq || l.Time != e.TimeNs || hex.EncodeToString(l.Prev[:]) != e.Prev || string(l.Event) != e.Event ||
				hex.EncodeToString(enc[:]) != e.Header || hex.EncodeToString(leaf[:]) != e.LeafHash {
				t.Fatalf("parsed line disagrees with the vector: %+v", l)
			}
			if leaf != tlog.RecordHash(enc[:]) {
				t.Fatal("leaf hash is not the RFC 6962 leaf hash of the header")
			}
			if got := format.AppendLine(nil, &l); string(got) != e.Line+"\n" {
				t.Fatalf("re-encoded line differs:\n%s", got)
			}
			er, err := format.ParseLine([]byte(e.ErasedLine))
			if err != nil || !er.Erased || er.Header() != h {
				t.Fatalf("erased line: %+v %v", er, err)
			}
		})
	}
}

// TestVectorTrees checks the tree roots against tlog.
func TestVectorTrees(t *testing.T) {
	f := loadVectors(t)
	var e tree.Edge
	var stored []tlog.Hash
	roots := map[uint64]string{}
	for _, tr := range f.Trees {
		roots[tr.Size] = tr.Root
	}
	for i := uint64(0); i <= 1000; i++ {
		if want, ok := roots[i]; ok {
			r := e.Root()
			th, _ := tlog.TreeHash(int64(i), tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
				out := make([]tlog.Hash, len(idx))
				for j, x := range idx {
					out[j] = stored[x]
				}
				return out, nil
			}))
			if base64.StdEncoding.EncodeToString(r[:]) != want || r != th {
				t.Fatalf("size %d: root %x, want %s (tlog %x)", i, r, want, th)
			}
		}
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], i)
		stored = e.Append(sha256.Sum256(b[:]), stored)
	}
}

// TestVectorCheckpoint checks the signed checkpoint vector.
func TestVectorCheckpoint(t *testing.T) {
	f := loadVectors(t)
	v, err := note.NewVerifier(f.Checkpoint.Key)
	if err != nil {
		t.Fatal(err)
	}
	c, n, err := checkpoint.Open([]byte(f.Checkpoint.Note), note.VerifierList(v), vectors.Origin)
	if err != nil || n.Text != f.Checkpoint.Text || string(c.Text()) != f.Checkpoint.Text {
		t.Fatalf("%+v %v", c, err)
	}
	last := f.Entries[len(f.Entries)-1]
	sig, _ := base64.StdEncoding.DecodeString(last.Sig)
	if !checkpoint.VerifyText(v, c.Text(), sig) {
		t.Fatal("the last entry's batch signature does not verify on the checkpoint")
	}
}

// TestVectorRejects checks that every line to reject is rejected, for the
// stated member.
func TestVectorRejects(t *testing.T) {
	for _, r := range loadVectors(t).Reject {
		_, err := format.ParseLine([]byte(r.Line))
		var pe *format.ParseError
		if !errors.As(err, &pe) || pe.Field != r.Field {
			t.Errorf("%s: ParseLine = %v, want an error about %s", r.Why, err, r.Field)
		}
	}
}

// TestVectorLog verifies the sample log with its key.
func TestVectorLog(t *testing.T) {
	pub, err := os.ReadFile(filepath.Join(vectorDir, "log.pub"))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := verify.Verify(context.Background(), verify.Dir(filepath.Join(vectorDir, "log")), verify.Options{Key: strings.TrimSpace(string(pub)), AllSignatures: true})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Valid || rep.Entries != 23 || rep.Erased != 1 || rep.Authenticated != 23 {
		t.Fatalf("%+v", rep)
	}
}

// TestVectorRotated checks the rotated vector log (docs/FORMAT.md section
// 11): its rotation records are in the one form, and a verifier given any
// key of the chain, or the keys file, finds the chain rotation.json says.
func TestVectorRotated(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(vectorDir, "rotation.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want vectors.Rotation
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	for _, r := range want.Records {
		got, ok := format.ParseRotation([]byte(r.Event))
		if !ok || got.Key != r.Key || got.Prev != r.Prev || string(format.AppendRotationEvent(nil, r.Key, r.Prev)) != r.Event {
			t.Errorf("record %d: %s does not parse as a rotation to %s", r.Seq, r.Event, r.Key)
		}
	}
	keysFile, err := os.ReadFile(filepath.Join(vectorDir, "rotated.keys"))
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, l := range strings.Split(string(keysFile), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			all = append(all, l)
		}
	}
	dir := filepath.Join(vectorDir, "rotated")
	for i, opts := range []verify.Options{{Key: want.Keys[0].Key}, {Key: want.Keys[1].Key}, {Key: want.Keys[2].Key, AllSignatures: true}, {Keys: all}} {
		rep, err := verify.Verify(context.Background(), verify.Dir(dir), opts)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Valid || rep.Entries != 12 || len(rep.Keys) != len(want.Keys) {
			t.Fatalf("options %d: %s, %d entries, keys %+v: %+v", i, rep.Verdict, rep.Entries, rep.Keys, rep.Problems)
		}
		for j, k := range want.Keys {
			got := rep.Keys[j]
			if got.Key != k.Key || got.First != k.First || got.Last == nil || *got.Last != k.Last {
				t.Errorf("options %d: key %d = %+v, want %+v", i, j, got, k)
			}
		}
	}
	// The library reads it back with its chain.
	l, err := sealog.Open(dir, sealog.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if got := l.Keys(); len(got) != 3 || got[2].VerifierKey != want.Keys[2].Key || got[2].From != 11 {
		t.Fatalf("Log.Keys = %+v", got)
	}
}
