package compat

import (
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"lukechampine.com/blake3"
)

func TestSpineReadmeExample(t *testing.T) {
	payload := `{"event_type": "user.login", "user": "cafe\u0301", "ip": "192.0.2.10", "attempt": 1}`
	c := canonOf(t, payload, spineCanon)
	if string(c) != `{"attempt":1,"event_type":"user.login","ip":"192.0.2.10","user":"café"}` {
		t.Fatalf("canonical = %s", c)
	}
	sum := blake3.Sum256(c)
	if got := hex.EncodeToString(sum[:]); got != "e2a61c368d633c576d0da3f0b06c1239106caa28027c822d33f170bab5c0c414" {
		t.Fatalf("payload_hash = %s", got)
	}
	if got := spineEntryHash(1, 1772442002617477000, zeroHash, hex.EncodeToString(sum[:])); got != "e24ca837f2daaacad73461639fcf149fae53ad674ae1489fd8e9199e33f4ec4a" {
		t.Fatalf("entry hash = %s", got)
	}
}

// spineChain makes n plain records signed by kid_a.
func spineChain(g *spineGen, n int) []*spRecSpec {
	var out []*spRecSpec
	for i := 0; i < n; i++ {
		out = append(out, g.next(fmt.Sprintf(`{"event_type": "e%d", "n": %d}`, i, i), "kid_a"))
	}
	return out
}

func TestSpineSegmentsAndSideFiles(t *testing.T) {
	g := newSpineGen(t)
	recs := spineChain(g, 7)
	dir := t.TempDir()
	writeWAL(t, dir, map[string][]*spRecSpec{
		"segment_20260302_090003.jsonl": recs[:3],
		"segment_20260302_100000.jsonl": recs[3:],
	}, recs[6], g.stream)
	// Blank lines count for nothing; side files are not segments.
	appendFile(t, filepath.Join(dir, "segment_20260302_090003.jsonl"), "\n  \n")
	writeFile(t, filepath.Join(dir, "receipts.jsonl"), `{"event_id": "x", "receipt": {}, "attached_at": "now"}`+"\n")
	writeFile(t, filepath.Join(dir, "dead_letters.jsonl"), `{"event_id": "y", "failure_ts": "t", "code": 409, "reason": "dup"}`+"\n")
	writeFile(t, filepath.Join(dir, "segment_notes.txt"), "not a segment\n")
	r := mustVerify(t, Spine, dir, Options{Trust: g.trust("kid_a")})
	want(t, r, true, -1, 7)
	if len(r.Files) != 2 || r.ReceiptsUnverified != 1 || r.SignaturesChecked != 7 {
		t.Errorf("files=%v receipts_unverified=%d sigs=%d", r.Files, r.ReceiptsUnverified, r.SignaturesChecked)
	}
	if !hasWarning(r, WarnUnprotectedFields) || !hasWarning(r, WarnTailTruncationUndetectable) {
		t.Errorf("warnings = %v", r.Warnings)
	}
	if f, err := Detect(dir); err != nil || f != Spine {
		t.Errorf("Detect = %v, %v", f, err)
	}
}

func TestSpineTamper(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(g *spineGen, recs []*spRecSpec) []*spRecSpec
		first int
		n     int
	}{
		{"swapped", func(g *spineGen, r []*spRecSpec) []*spRecSpec { r[2], r[3] = r[3], r[2]; return r }, 2, 6},
		{"pruned start", func(g *spineGen, r []*spRecSpec) []*spRecSpec { return r[2:] }, 0, 4},
		{"payload float", func(g *spineGen, r []*spRecSpec) []*spRecSpec {
			r[1].Payload = `{"event_type": "e1", "n": 1.0}`
			return r
		}, 1, 6},
		{"stream mismatch", func(g *spineGen, r []*spRecSpec) []*spRecSpec { r[4].StreamID = "stream_0000000000000000"; return r }, 4, 6},
		{"event_id edited (undetectable)", func(g *spineGen, r []*spRecSpec) []*spRecSpec { r[4].EventID = "evt_other"; return r }, -1, 6},
		{"hash_alg edited (undetectable)", func(g *spineGen, r []*spRecSpec) []*spRecSpec { return r }, -1, 6},
		{"foreign key", func(g *spineGen, r []*spRecSpec) []*spRecSpec {
			g.addKey("kid_x", 9)
			g.sign(r[3], "kid_x")
			return r
		}, 3, 6},
		{"resigned under trusted key_id with another key", func(g *spineGen, r []*spRecSpec) []*spRecSpec {
			g.addKey("kid_x", 9)
			g.sign(r[2], "kid_x")
			r[2].KeyID = "kid_a" // embedded public_key is kid_x's
			return r
		}, 2, 6},
		{"no embedded key", func(g *spineGen, r []*spRecSpec) []*spRecSpec { r[1].NoPub = true; return r }, -1, 6},
		{"time goes back", func(g *spineGen, r []*spRecSpec) []*spRecSpec {
			r[3].TS = "2026-03-02T09:00:01+00:00"
			g.sign(r[3], "kid_a")
			r[4].Prev = spineEntryHashOf(r[3])
			g.sign(r[4], "kid_a")
			return r
		}, 3, 6},
		{"seq skipped but re-linked", func(g *spineGen, r []*spRecSpec) []*spRecSpec {
			r[2].Seq = 4
			g.sign(r[2], "kid_a")
			return r
		}, 2, 6},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := newSpineGen(t)
			recs := c.edit(g, spineChain(g, 6))
			dir := t.TempDir()
			writeWAL(t, dir, map[string][]*spRecSpec{"segment_20260302_090003.jsonl": recs}, nil, g.stream)
			r := mustVerify(t, Spine, dir, Options{Trust: g.trust("kid_a")})
			want(t, r, c.first < 0, c.first, c.n)
		})
	}
}

func spineEntryHashOf(r *spRecSpec) string {
	ns, _ := parseISOTimeNS(r.TS)
	return spineEntryHash(r.Seq, ns, r.Prev, r.PayloadHash)
}

func TestSpineKeyRotation(t *testing.T) {
	for _, signer := range []string{"kid_a", "kid_x"} {
		t.Run("rotation signed by "+signer, func(t *testing.T) {
			g := newSpineGen(t)
			pubB := g.addKey("kid_b", 2)
			g.addKey("kid_x", 9)
			recs := spineChain(g, 2)
			recs = append(recs, g.next(fmt.Sprintf(`{"type": "key_rotation", "new_key_id": "kid_b", "new_public_key": %q, "reason": "scheduled", "effective_seq": 4}`, pubB), signer))
			for i := 0; i < 3; i++ {
				recs = append(recs, g.next(`{"event_type": "after"}`, "kid_b"))
			}
			dir := t.TempDir()
			writeWAL(t, dir, map[string][]*spRecSpec{"segment_20260302_090003.jsonl": recs}, recs[len(recs)-1], g.stream)
			r := mustVerify(t, Spine, dir, Options{Trust: g.trust("kid_a")})
			if signer == "kid_a" {
				want(t, r, true, -1, 6)
				if len(r.KeysUsed) != 2 {
					t.Errorf("keys used %v", r.KeysUsed)
				}
			} else {
				want(t, r, false, 2, 6)
			}
		})
	}
}

func TestSpineEmbeddedKeyNeverTrusted(t *testing.T) {
	// An attacker rewrites every record and re-signs with a key of their
	// own, embedding its public key: spine-cli would accept this.
	g := newSpineGen(t)
	g.addKey("kid_a_fake", 7)
	g.keys["kid_a"], g.keys["kid_a_fake"] = g.keys["kid_a_fake"], g.keys["kid_a"]
	recs := spineChain(g, 3)
	dir := t.TempDir()
	writeWAL(t, dir, map[string][]*spRecSpec{"segment_20260302_090003.jsonl": recs}, nil, g.stream)
	trusted := Trust{Keys: []KeyRef{{KeyID: "kid_a", PublicKey: g.pub("kid_a_fake")}}}
	want(t, mustVerify(t, Spine, dir, Options{Trust: trusted}), false, 0, 3)
}

func TestSpineHeadState(t *testing.T) {
	g := newSpineGen(t)
	recs := spineChain(g, 5)
	seg := map[string][]*spRecSpec{"segment_20260302_090003.jsonl": recs[:4]}
	trust := Options{Trust: g.trust("kid_a")}
	// State one behind (crash between the segment and state writes): fine.
	dir := t.TempDir()
	writeWAL(t, dir, seg, recs[2], g.stream)
	want(t, mustVerify(t, Spine, dir, trust), true, -1, 4)
	// State ahead: records missing at the end.
	dir = t.TempDir()
	writeWAL(t, dir, seg, recs[4], g.stream)
	want(t, mustVerify(t, Spine, dir, trust), false, 4, 4)
	// Same seq, other head: the last record was replaced.
	dir = t.TempDir()
	other := *recs[3]
	other.Prev = strings.Repeat("1", 64)
	writeWAL(t, dir, seg, &other, g.stream)
	want(t, mustVerify(t, Spine, dir, trust), false, 3, 4)
	// No state, cut tail: valid without an anchor, invalid with one.
	dir = t.TempDir()
	writeWAL(t, dir, seg, nil, g.stream)
	r := mustVerify(t, Spine, dir, trust)
	want(t, r, true, -1, 4)
	if !hasWarning(r, WarnTailTruncationUndetectable) || r.TruncationChecked {
		t.Error("want tail_truncation_undetectable")
	}
	a, err := ParseAnchor([]byte(fmt.Sprintf(`{"seq": 5, "prev_hash": %q}`, spineEntryHashOf(recs[4]))))
	if err != nil {
		t.Fatal(err)
	}
	r = mustVerify(t, Spine, dir, Options{Trust: trust.Trust, Anchor: &a})
	want(t, r, false, 4, 4)
	if !r.TruncationChecked || hasWarning(r, WarnTailTruncationUndetectable) {
		t.Errorf("anchor: truncation_checked=%v warnings=%v", r.TruncationChecked, r.Warnings)
	}
	// An anchor taken earlier still matches a longer log.
	a, _ = ParseAnchor([]byte(fmt.Sprintf(`{"entries": 2, "head_hash": %q}`, spineEntryHashOf(recs[1]))))
	want(t, mustVerify(t, Spine, dir, Options{Trust: trust.Trust, Anchor: &a}), true, -1, 4)
}

func TestSpineTornAndBrokenLines(t *testing.T) {
	g := newSpineGen(t)
	recs := spineChain(g, 5)
	trust := Options{Trust: g.trust("kid_a")}
	write := func(seg1, seg2 string) string {
		dir := t.TempDir()
		writeWAL(t, dir, nil, nil, g.stream)
		writeFile(t, filepath.Join(dir, "segment_20260302_090003.jsonl"), seg1)
		if seg2 != "" {
			writeFile(t, filepath.Join(dir, "segment_20260302_090010.jsonl"), seg2)
		}
		return dir
	}
	lines := func(rs ...*spRecSpec) string {
		var b strings.Builder
		for _, r := range rs {
			b.WriteString(r.line())
		}
		return b.String()
	}
	torn := recs[3].line()[:40]
	// Torn last line of the first segment; the writer restarted with the same seq.
	r := mustVerify(t, Spine, write(lines(recs[:3]...)+torn, lines(recs[3:]...)), trust)
	want(t, r, true, -1, 5)
	if !hasWarning(r, WarnTornLineSkipped) {
		t.Errorf("warnings = %v", r.Warnings)
	}
	// A complete last line without '\n' is a record.
	r = mustVerify(t, Spine, write(lines(recs...)[:len(lines(recs...))-1], ""), trust)
	want(t, r, true, -1, 5)
	// A broken line that is not the last one.
	want(t, mustVerify(t, Spine, write(lines(recs[:2]...)+torn+"\n"+lines(recs[2:]...), ""), trust), false, 2, 6)
	// Invalid UTF-8 is counted and bad, not skipped.
	bad := strings.Replace(recs[1].line(), "e1", "e\xff", 1)
	want(t, mustVerify(t, Spine, write(lines(recs[0])+bad+lines(recs[2:]...), ""), trust), false, 1, 5)
	// Raw U+2028, NEL and \v inside a string are ordinary characters.
	g2 := newSpineGen(t)
	odd := []*spRecSpec{g2.next(`{"event_type": "note", "text": "a\u2028b\u0085c\u000bd"}`, "kid_a")}
	odd[0].Payload = "{\"event_type\": \"note\", \"text\": \"a\u2028b\u0085c\\u000bd\"}"
	odd = append(odd, g2.next(`{"event_type": "x"}`, "kid_a"))
	want(t, mustVerify(t, Spine, write(lines(odd...), ""), Options{Trust: g2.trust("kid_a")}), true, -1, 2)
}

func TestSpineEmpty(t *testing.T) {
	dir := t.TempDir()
	r := mustVerify(t, Spine, dir, Options{})
	want(t, r, true, -1, 0)
	if !hasWarning(r, WarnEmptyLog) {
		t.Errorf("warnings = %v", r.Warnings)
	}
	writeFile(t, filepath.Join(dir, "segment_20260302_090003.jsonl"), "")
	want(t, mustVerify(t, Spine, dir, Options{}), true, -1, 0)
	writeFile(t, filepath.Join(dir, "chain_state.json"), `{"stream_id": "s", "seq": 3, "prev_hash": "x", "updated_at": "t"}`)
	want(t, mustVerify(t, Spine, dir, Options{}), false, 0, 0)
	if _, err := Verify(t.Context(), Spine, filepath.Join(dir, "missing"), Options{}); err == nil {
		t.Error("missing directory: want an error")
	}
}

func TestSpineBigIntegers(t *testing.T) {
	g := newSpineGen(t)
	recs := []*spRecSpec{
		g.next(`{"bytes": 18446744073709551616, "neg": -340282366920938463463374607431768211456, "zero": -0}`, "kid_a"),
		g.next(`{"n": 123456789012345678901234567890123456789012345678901234567890}`, "kid_a"),
	}
	dir := t.TempDir()
	writeWAL(t, dir, map[string][]*spRecSpec{"segment_20260302_090003.jsonl": recs}, recs[1], g.stream)
	want(t, mustVerify(t, Spine, dir, Options{Trust: g.trust("kid_a")}), true, -1, 2)
}
