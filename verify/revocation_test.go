package verify_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/verify"
)

// signRevocation signs a revocation statement of vkey at size with signer.
func signRevocation(t *testing.T, vkey string, size uint64, at time.Time, signer note.Signer) []byte {
	t.Helper()
	text := verify.RevocationText("test.example/audit", vkey, size, at)
	sig, err := checkpoint.SignText(text, signer)
	if err != nil {
		t.Fatal(err)
	}
	return checkpoint.Assemble(text, signer.Name(), sig)
}

// testWitness is a C2SP cosignature/v1 witness.
type testWitness struct {
	name string
	priv ed25519.PrivateKey
	vkey string
	hash uint32
}

func newWitness(seed string) testWitness {
	h := sha256.Sum256([]byte("witness " + seed))
	priv := ed25519.NewKeyFromSeed(h[:])
	raw := append([]byte{0x04}, priv.Public().(ed25519.PublicKey)...)
	const name = "witness.example/w1"
	kh := sha256.Sum256(append([]byte(name+"\n"), raw...))
	hash := binary.BigEndian.Uint32(kh[:4])
	return testWitness{name: name, priv: priv, hash: hash, vkey: fmt.Sprintf("%s+%08x+%s", name, hash, base64.StdEncoding.EncodeToString(raw))}
}

// cosign adds the witness's cosignature, made at time at, to a signed
// checkpoint note.
func (w testWitness) cosign(msg []byte, at time.Time) []byte {
	n, err := checkpoint.ParseNote(msg)
	if err != nil {
		panic(err)
	}
	ts := uint64(at.Unix())
	sig := ed25519.Sign(w.priv, fmt.Appendf(nil, "cosignature/v1\ntime %d\n%s", ts, n.Text))
	line := binary.BigEndian.AppendUint32(nil, w.hash)
	line = binary.BigEndian.AppendUint64(line, ts)
	return append(append([]byte(nil), msg...), fmt.Sprintf("— %s %s\n", w.name, base64.StdEncoding.EncodeToString(append(line, sig...)))...)
}

func TestRevocation(t *testing.T) {
	rl := newRotatedLog(t)
	rootSkey, _ := testkit.Keys("revocation-root", "test.example/audit-root")
	root, err := sealog.ParseKey(rootSkey)
	if err != nil {
		t.Fatal(err)
	}
	leak := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	w := newWitness("one")
	final, err := checkpoint.Sign(mustParse(t, rl.texts[48]), rl.keys[2].Signer())
	if err != nil {
		t.Fatal(err)
	}
	trust := []string{rl.vkey(0), root.VerifierKey()}
	cases := []struct {
		name        string
		opts        verify.Options
		verdict     string
		first, last uint64 // the revoked range; last 0: none
		witnessed   uint64
	}{
		{"last key, all it signed", verify.Options{Revocations: [][]byte{signRevocation(t, rl.vkey(2), 44, leak, root.Signer())}},
			verify.VerdictRevoked, 44, 47, 0},
		{"middle key, before its rotation", verify.Options{Revocations: [][]byte{signRevocation(t, rl.vkey(1), 40, leak, root.Signer())}},
			verify.VerdictRevoked, 40, 47, 0},
		// The key handed over at entry 43 (tree 44): nothing past 44 is its.
		{"middle key, after its rotation, by its successor", verify.Options{Revocations: [][]byte{signRevocation(t, rl.vkey(1), 44, leak, rl.keys[2].Signer())}},
			verify.VerdictValid, 0, 0, 0},
		{"first key at its last tree", verify.Options{Revocations: [][]byte{signRevocation(t, rl.vkey(0), 31, leak, root.Signer())}},
			verify.VerdictValid, 0, 0, 0},
		{"witnessed before the leak", verify.Options{Revocations: [][]byte{signRevocation(t, rl.vkey(2), 44, leak, root.Signer())},
			Witnesses: []string{w.vkey}, Checkpoints: [][]byte{w.cosign(final, leak.Add(-time.Hour))}},
			verify.VerdictValid, 0, 0, 48},
		{"witnessed after the leak", verify.Options{Revocations: [][]byte{signRevocation(t, rl.vkey(2), 44, leak, root.Signer())},
			Witnesses: []string{w.vkey}, Checkpoints: [][]byte{w.cosign(final, leak.Add(time.Hour))}},
			verify.VerdictRevoked, 44, 47, 0},
		{"timestamped before the leak", verify.Options{Revocations: [][]byte{signRevocation(t, rl.vkey(2), 44, leak, root.Signer())},
			Checkpoints: [][]byte{final}, ExistedBefore: func(c checkpoint.Checkpoint, _ []byte) (time.Time, bool) {
				return leak.Add(-time.Minute), c.Size == 48
			}},
			verify.VerdictValid, 0, 0, 48},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.opts.Keys = trust
			rep, err := verify.Verify(context.Background(), verify.Dir(rl.dir), c.opts)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Verdict != c.verdict {
				t.Fatalf("verdict %s, want %s: %+v %+v", rep.Verdict, c.verdict, rep.Problems, rep.Revoked)
			}
			if len(rep.Revoked) != 1 {
				t.Fatalf("revoked = %+v", rep.Revoked)
			}
			r := rep.Revoked[0]
			if c.last == 0 && r.Count != 0 || c.last != 0 && (r.First != c.first || r.Last != c.last || r.Count != c.last-c.first+1) {
				t.Errorf("revoked range %+v, want %d-%d", r, c.first, c.last)
			}
			if c.last != 0 && (rep.FirstInvalid == nil || *rep.FirstInvalid != c.first) {
				t.Errorf("first invalid %v, want %d", rep.FirstInvalid, c.first)
			}
			if r.Witnessed != c.witnessed {
				t.Errorf("witnessed %d, want %d", r.Witnessed, c.witnessed)
			}
		})
	}
}

func TestRevocationRefused(t *testing.T) {
	rl := newRotatedLog(t)
	leak := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	other, _ := testkit.Keys("rotation-other", "test.example/audit")
	ok, _ := sealog.ParseKey(other)
	for _, c := range []struct {
		name string
		stmt []byte
	}{
		{"signed by the revoked key", signRevocation(t, rl.vkey(2), 44, leak, rl.keys[2].Signer())},
		{"signed by an untrusted key", signRevocation(t, rl.vkey(2), 44, leak, ok.Signer())},
		// The successor of a key revoked before its rotation is tainted.
		{"signed by a successor named past the point", signRevocation(t, rl.vkey(1), 40, leak, rl.keys[2].Signer())},
		{"not a statement", []byte("sealog-revocation/v1\nx\n\n— a AAAAAAA=\n")},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := verify.Verify(context.Background(), verify.Dir(rl.dir), verify.Options{Key: rl.vkey(0), Revocations: [][]byte{c.stmt}})
			var ie *verify.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want an InputError", err)
			}
		})
	}
}

func FuzzParseRevocation(f *testing.F) {
	skey, _ := testkit.Keys("fuzz", "test.example/audit")
	k, _ := sealog.ParseKey(skey)
	text := verify.RevocationText("test.example/audit", k.VerifierKey(), 7, time.Unix(1e9, 0))
	sig, _ := checkpoint.SignText(text, k.Signer())
	f.Add(checkpoint.Assemble(text, k.Origin(), sig))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := verify.ParseRevocation(b)
		if err != nil {
			return
		}
		if _, err := note.NewVerifier(r.Key); err != nil {
			t.Fatalf("accepted a statement naming a malformed key %q", r.Key)
		}
	})
}
