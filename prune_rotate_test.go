package sealog_test

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/verify"
)

// rotatedPrunable makes a prunable log with two rotations (keys 0, 1,
// 2), entries after each; it returns the keys and the rotation seqs.
func rotatedPrunable(t *testing.T) (dir string, ks []*sealog.Key, vkeys []string, rots []uint64) {
	t.Helper()
	ctx := context.Background()
	dir, k0, vkey0 := prunableLog(t, 60)
	ks, vkeys = []*sealog.Key{k0}, []string{vkey0}
	l := openPrunable(t, dir, k0)
	for r := 1; r <= 2; r++ {
		skey, vkey := testkit.Keys("prune-rot"+string(rune('0'+r)), testkit.Origin)
		k, err := sealog.ParseKey(skey)
		if err != nil {
			t.Fatal(err)
		}
		rot, err := l.Rotate(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		ks, vkeys, rots = append(ks, k), append(vkeys, vkey), append(rots, rot.Seq)
		for i := 0; i < 40; i++ {
			if _, err := l.Append(ctx, sealog.Event{Kind: "doc.read", Payload: map[string]any{"i": i, "pad": strings.Repeat("x", 60)}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, ks, vkeys, rots
}

// TestPruneAcrossRotation: a rotated log is pruned in two steps, first
// past its first rotation record, then past the second too; the prune
// state keeps both records, the log reopens with its current key and
// goes on, and it verifies with any key of the chain trusted.
func TestPruneAcrossRotation(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir, ks, vkeys, rots := rotatedPrunable(t)
	l := openPrunable(t, dir, ks[2])
	first, err := l.Prune(ctx, rots[0]+10)
	if err != nil || first.Below <= rots[0] || first.Below >= rots[1] {
		t.Fatalf("pruning below %d: %+v %v; want past the first rotation (%d), before the second (%d)", rots[0]+10, first, err, rots[0], rots[1])
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	p, err := layout.ReadPruned(dir)
	if err != nil || len(p.Rotations) != 1 {
		t.Fatalf("pruned.json after the first prune: %+v %v", p, err)
	}
	l = openPrunable(t, dir, ks[2])
	res, err := l.Prune(ctx, rots[1]+20)
	if err != nil || res.Below <= rots[1] {
		t.Fatalf("pruning below %d: %+v %v; want past the second rotation (%d)", rots[1]+20, res, err, rots[1])
	}
	if got := l.Keys(); len(got) != 3 || got[1].Rotation != rots[0] || got[2].Rotation != rots[1] {
		t.Fatalf("keys after pruning: %+v", got)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if p, err = layout.ReadPruned(dir); err != nil || len(p.Rotations) != 2 || p.Below != res.Below {
		t.Fatalf("pruned.json after the second prune: %+v %v", p, err)
	}
	l = openPrunable(t, dir, ks[2])
	if _, err := l.Append(ctx, sealog.Event{Kind: "after.reopen"}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// The old key no longer opens it for writing: the chain says key 2.
	if l, err := sealog.Open(dir, sealog.Options{Key: ks[0], Logger: testkit.Logger(t)}); err == nil {
		l.Close()
		t.Fatal("the log opened with a key it was rotated away from")
	}
	for _, tc := range []struct {
		name string
		opts verify.Options
	}{
		{"the first key", verify.Options{Key: vkeys[0]}},
		{"the middle key", verify.Options{Key: vkeys[1]}},
		{"the last key", verify.Options{Key: vkeys[2]}},
		{"all keys", verify.Options{Key: vkeys[0], Keys: vkeys[1:]}},
		{"every signature", verify.Options{Key: vkeys[0], AllSignatures: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := verify.Verify(ctx, verify.Dir(dir), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Valid || rep.Pruned == nil || rep.Pruned.Status != "ok" || rep.Pruned.Below != res.Below || len(rep.Keys) != 3 {
				t.Fatalf("valid %v verdict %s, pruned %+v, keys %+v, problems %+v", rep.Valid, rep.Verdict, rep.Pruned, rep.Keys, rep.Problems)
			}
			if rep.Keys[1].First != rots[0]+1 || rep.Keys[2].First != rots[1]+1 {
				t.Fatalf("key ranges %+v", rep.Keys)
			}
		})
	}
}

// TestPrunedRotationTampered: the key chain that pruned.json keeps is
// altered, cut short or made up; each is caught, at the record at fault
// or at the first batch signed by a key the chain no longer authorises.
func TestPrunedRotationTampered(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir, ks, vkeys, rots := rotatedPrunable(t)
	l := openPrunable(t, dir, ks[2])
	res, err := l.Prune(ctx, rots[1]+20)
	if err != nil || res.Below <= rots[1] {
		t.Fatalf("prune: %+v %v", res, err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	good, err := layout.ReadPruned(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, evilV := testkit.Keys("evil", testkit.Origin)
	P, wrongKey := int64(res.Below), int64(-1)
	badSig := flipSigBit(t, good.Rotations[0].Line)
	for _, tc := range []struct {
		name   string
		change func(p *layout.Pruned)
		// first is the first invalid seq trusting the first key, then
		// trusting them all; wrongKey: the verdict is that the log is not
		// signed by the key (a chain that starts with a key that no
		// rotation kept links to the first).
		first [2]int64
	}{
		{"the second record dropped", func(p *layout.Pruned) { p.Rotations = p.Rotations[:1] }, [2]int64{P, P}},
		{"the first record dropped", func(p *layout.Pruned) { p.Rotations = p.Rotations[1:] }, [2]int64{wrongKey, P}},
		{"both dropped", func(p *layout.Pruned) { p.Rotations = nil }, [2]int64{wrongKey, P}},
		{"a record's key changed", func(p *layout.Pruned) {
			p.Rotations[1].Line = []byte(strings.Replace(string(p.Rotations[1].Line), vkeys[2], evilV, 1))
		}, [2]int64{int64(rots[1]), int64(rots[1])}},
		{"a record's edge changed", func(p *layout.Pruned) { p.Rotations[0].Edge[0][0] ^= 1 }, [2]int64{int64(rots[0]), int64(rots[0])}},
		{"a record's proof changed", func(p *layout.Pruned) { p.Rotations[1].Proof[0][0] ^= 1 }, [2]int64{int64(rots[1]), int64(rots[1])}},
		{"a record's signature changed", func(p *layout.Pruned) { p.Rotations[0].Line = badSig }, [2]int64{int64(rots[0]), int64(rots[0])}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := layout.ParsePruned(good.Marshal())
			tc.change(p)
			if err := os.WriteFile(filepath.Join(dir, layout.PrunedFile), p.Marshal(), 0o644); err != nil {
				t.Fatal(err)
			}
			defer os.WriteFile(filepath.Join(dir, layout.PrunedFile), good.Marshal(), 0o644)
			for i, opts := range []verify.Options{{Key: vkeys[0]}, {Key: vkeys[0], Keys: vkeys[1:]}} {
				rep, err := verify.Verify(ctx, verify.Dir(dir), opts)
				if err != nil {
					t.Fatal(err)
				}
				want := tc.first[i]
				switch {
				case rep.Valid:
					t.Fatalf("trusted keys %d: valid", i)
				case want == wrongKey && (rep.Verdict != verify.VerdictWrongKey || rep.FirstInvalid != nil):
					t.Fatalf("trusted keys %d: verdict %s first invalid %v; want the wrong-key verdict; problems %+v", i, rep.Verdict, rep.FirstInvalid, rep.Problems)
				case want != wrongKey && (rep.Verdict != verify.VerdictTampered || rep.FirstInvalid == nil || int64(*rep.FirstInvalid) != want):
					t.Fatalf("trusted keys %d: verdict %s first invalid %s (want %d), problems %+v", i, rep.Verdict, seqString(rep.FirstInvalid), want, rep.Problems)
				}
			}
			if l, err := sealog.Open(dir, sealog.Options{Key: ks[2], Logger: testkit.Logger(t)}); err == nil {
				l.Close()
				t.Fatal("the writer opened a log whose kept key chain is altered")
			}
		})
	}
}

func seqString(p *uint64) string {
	if p == nil {
		return "none"
	}
	return strconv.FormatUint(*p, 10)
}

// flipSigBit returns a copy of line whose signature has one bit of its
// Ed25519 part flipped, still in canonical base64: a well-formed line
// that no key verifies. (Flipping a character of the base64 made a
// malformed line whenever the salts, which vary with the test's temporary
// directory, put a character there whose flip is not base64: one run in
// eight.)
func flipSigBit(t *testing.T, line []byte) []byte {
	t.Helper()
	s := string(line)
	i := strings.LastIndex(s, `"sig":"`) + len(`"sig":"`)
	j := i + strings.IndexByte(s[i:], '"')
	sig, err := base64.StdEncoding.DecodeString(s[i:j])
	if err != nil || len(sig) != 68 {
		t.Fatalf("the record's sig %q: %v", s[i:j], err)
	}
	sig[4+10] ^= 1 // past the 4-byte key hash
	return []byte(s[:i] + base64.StdEncoding.EncodeToString(sig) + s[j:])
}
