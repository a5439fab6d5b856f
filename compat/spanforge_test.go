package compat

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

func TestSpanforgeReadmeExample(t *testing.T) {
	payload := `{"blocked":true,"excerpt":"mail me at café@example.com","rule":"pii.email","score":1e-07}`
	sum := sha256.Sum256(canonOf(t, payload, spanforgeCanon))
	checksum := "sha256:" + hex.EncodeToString(sum[:])
	if checksum != "sha256:9a7d5eee199f5f9b7a8810811946da0c9f6eb5dda2f2d6c2db7d8a28f091979e" {
		t.Fatalf("checksum = %s", checksum)
	}
	m := hmac.New(sha256.New, []byte("sf-compat-shared-0f4c2a9e7b1d3c5a8e6f"))
	m.Write([]byte("01KJPZV55RRZYYS68GHQDNPQXB|" + checksum + "|01KJPZV3PWHX6XV8A99HSWY9BD"))
	if got := hex.EncodeToString(m.Sum(nil)); got != "9c5150c2d863ca074f3b54968625edc1ff13df5361e48a9c9f24882b30f2a7ee" {
		t.Fatalf("signature = %s", got)
	}
}

func sfOpts(secret string) Options { return Options{Trust: Trust{Secret: secret}} }

func writeSF(t *testing.T, body string) string {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	writeFile(t, path, body)
	return path
}

// sfChain makes a chain whose payloads exercise Python's number forms and
// raw line separators.
func sfChain(g *sfGen) []*sfEventSpec {
	return []*sfEventSpec{
		g.next("llm.trace.span.completed", `{"latency_ms":412.5,"temperature":0.1,"tokens":18446744073709551617,"ratio":1e+16,"tiny":1e-07,"z":-0.0}`),
		g.next("llm.guard", "{\"text\":\"a\u2028b\u2029c\u0085d\\u000be\\u000cf\",\"score\":NaN,\"hi\":Infinity,\"lo\":-Infinity}"),
		g.next("llm.cost", `{"usd":100.0,"per":0.000123,"big":1e22,"exp":1.2345678901234568e+17,"small":1e-05}`),
		g.next("llm.step", `{"query":"東京 \"weather\"\n","args":{"k":5,"nested":{"a":false,"b":null}},"dup":1,"dup":2}`),
		g.next("llm.eval", `{"emoji":"🔒","tab\tkey":"back\\slash </script>","score":-0.0}`),
	}
}

func TestSpanforgeValidHardInput(t *testing.T) {
	g := newSFGen(t)
	evs := sfChain(g)
	body := sfLines(t, evs)
	// Unprotected fields hold raw separators too, and lines end in CRLF with
	// blank lines between: split on '\n' only, trim CR.
	body = strings.Replace(body, `"actor_id":"u-1"`, "\"actor_id\":\"u\u2028\u0085\\u000b1\"", 2)
	body = strings.Replace(body, "\n", "\r\n\n  \n", 2)
	r := mustVerify(t, Spanforge, writeSF(t, body), sfOpts(sfSecret))
	want(t, r, true, -1, len(evs))
	if !hasWarning(r, WarnUnprotectedFields) || len(r.UnprotectedFields) != 12 {
		t.Errorf("warnings=%v unprotected=%v", r.Warnings, r.UnprotectedFields)
	}
}

func TestSpanforgeReserialised(t *testing.T) {
	g := newSFGen(t)
	e := g.next("x", `{"usd":100.0,"tiny":1e-07,"name":"café"}`)
	line := strings.TrimSuffix(e.line(t), "\n")
	// Spaces, another key order, \u escapes and other number spellings:
	// the checksum is over the payload's value, not its bytes.
	other := strings.Replace(line, `{"name":"café","tiny":1e-07,"usd":100.0}`, `{ "usd" : 1e2, "tiny": 1E-7, "name": "caf\u00e9" }`, 1)
	if other == line {
		t.Fatal("payload not found in line")
	}
	want(t, mustVerify(t, Spanforge, writeSF(t, other+"\n"), sfOpts(sfSecret)), true, -1, 1)
}

func TestSpanforgeTamper(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(g *sfGen, evs []*sfEventSpec) string
		first int
		n     int
	}{
		{"payload float edited", func(g *sfGen, e []*sfEventSpec) string {
			e[2].Payload = strings.Replace(e[2].Payload, "100.0", "100", 1) // int, not float
			return sfLines(t, e)
		}, 2, 5},
		{"metadata edited", func(g *sfGen, e []*sfEventSpec) string {
			e[1].Type = "llm.passed"
			return sfLines(t, e)
		}, -1, 5},
		{"first has prev_id", func(g *sfGen, e []*sfEventSpec) string { return sfLines(t, e[1:]) }, 0, 4},
		{"deleted", func(g *sfGen, e []*sfEventSpec) string { return sfLines(t, append(e[:2:2], e[3:]...)) }, 2, 4},
		{"swapped", func(g *sfGen, e []*sfEventSpec) string { e[3], e[4] = e[4], e[3]; return sfLines(t, e) }, 3, 5},
		{"unsigned rotation line", func(g *sfGen, e []*sfEventSpec) string {
			rot := &sfEventSpec{ID: "01KJPZVROT0000000000000000", Prev: e[4].ID, Type: "llm.audit.chain_rotated", Payload: `{"next_file":"audit.1.jsonl"}`}
			return sfLines(t, e) + rot.line(t)
		}, 5, 6},
		{"invalid utf-8", func(g *sfGen, e []*sfEventSpec) string {
			return strings.Replace(sfLines(t, e), "東京", "\xe6\x9d", 1)
		}, 3, 5},
		{"torn last line", func(g *sfGen, e []*sfEventSpec) string {
			s := sfLines(t, e)
			return s[:len(s)-30]
		}, 4, 5},
		{"signature from another secret", func(g *sfGen, e []*sfEventSpec) string {
			e[1].Signature = sfSign("other", e[1].ID, e[1].Checksum, e[1].Prev)
			return sfLines(t, e)
		}, 1, 5},
		{"not json", func(g *sfGen, e []*sfEventSpec) string {
			return strings.Replace(sfLines(t, e), "\n", "\nnot json\n", 1)
		}, 1, 6},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := newSFGen(t)
			r := mustVerify(t, Spanforge, writeSF(t, c.edit(g, sfChain(g))), sfOpts(sfSecret))
			want(t, r, c.first < 0, c.first, c.n)
		})
	}
}

// rotatedChain writes 3 events, a rotation to newSecret, then 3 more.
func rotatedChain(t *testing.T, newSecret string) (string, string) {
	g := newSFGen(t)
	var evs []*sfEventSpec
	for i := 0; i < 3; i++ {
		evs = append(evs, g.next("x", fmt.Sprintf(`{"i":%d}`, i)))
	}
	rot := g.next("llm.audit.key.rotated", fmt.Sprintf(`{"rotation_marker":"true","new_secret_hash":%q,"reason":"scheduled","rotated_by":"ops"}`, sha256Hex(newSecret)))
	evs = append(evs, rot)
	g.secret = newSecret
	for i := 0; i < 3; i++ {
		evs = append(evs, g.next("x", fmt.Sprintf(`{"j":%d}`, i)))
	}
	return writeSF(t, sfLines(t, evs)), rot.ID
}

func TestSpanforgeKeyRotation(t *testing.T) {
	path, rotID := rotatedChain(t, "sf-new-secret")
	// One secret only: everything after the rotation fails.
	want(t, mustVerify(t, Spanforge, path, sfOpts(sfSecret)), false, 4, 7)
	// key_map names the new secret.
	tr, err := ParseTrust([]byte(fmt.Sprintf(`{"secret": %q, "key_map": {%q: "sf-new-secret"}}`, sfSecret, rotID)))
	if err != nil {
		t.Fatal(err)
	}
	r := mustVerify(t, Spanforge, path, Options{Trust: tr})
	want(t, r, true, -1, 7)
	if len(r.KeysUsed) != 2 {
		t.Errorf("keys used: %v", r.KeysUsed)
	}
	// A wrong key_map secret.
	tr.KeyMap[rotID] = "wrong"
	want(t, mustVerify(t, Spanforge, path, Options{Trust: tr}), false, 4, 7)
	// Candidate secrets: picked by new_secret_hash.
	want(t, mustVerify(t, Spanforge, path, Options{Trust: Trust{Secret: sfSecret, Secrets: []string{"nope", "sf-new-secret"}}}), true, -1, 7)
	// Candidates also pick the starting secret.
	want(t, mustVerify(t, Spanforge, path, Options{Trust: Trust{Secret: "nope", Secrets: []string{"sf-new-secret", sfSecret}}}), true, -1, 7)
}

func TestSpanforgeTombstone(t *testing.T) {
	g := newSFGen(t)
	evs := sfChain(g)
	// erase_subject: replace event 2 with a tombstone of the same id and
	// re-sign it and the event after it.
	evs[2].Type = "llm.audit.tombstone"
	evs[2].Payload = fmt.Sprintf(`{"erased_subject_id_hash":%q,"original_event_type":"llm.cost","erased_by":"dpo","reason":"gdpr"}`, sha256Hex("u-77"))
	g.seal(evs[2])
	g.seal(evs[3])
	r := mustVerify(t, Spanforge, writeSF(t, sfLines(t, evs)), sfOpts(sfSecret))
	want(t, r, true, -1, 5)
	if r.TombstoneCount != 1 || len(r.Tombstones) != 1 || r.Tombstones[0] != 2 {
		t.Errorf("tombstones %d %v", r.TombstoneCount, r.Tombstones)
	}
}

func TestSpanforgeEmptyAndAnchor(t *testing.T) {
	for _, body := range []string{"", "\n\n  \r\n"} {
		r := mustVerify(t, Spanforge, writeSF(t, body), sfOpts(sfSecret))
		want(t, r, true, -1, 0)
		if !hasWarning(r, WarnEmptyLog) {
			t.Errorf("warnings = %v", r.Warnings)
		}
	}
	g := newSFGen(t)
	evs := sfChain(g)
	path := writeSF(t, sfLines(t, evs[:3]))
	want(t, mustVerify(t, Spanforge, path, sfOpts(sfSecret)), true, -1, 3)
	for _, a := range []string{
		fmt.Sprintf(`{"entries": 5, "last_signature": %q}`, evs[4].Signature),
		fmt.Sprintf(`{"last_event_id": %q}`, evs[4].ID),
	} {
		an, err := ParseAnchor([]byte(a))
		if err != nil {
			t.Fatal(err)
		}
		r := mustVerify(t, Spanforge, path, Options{Trust: Trust{Secret: sfSecret}, Anchor: &an})
		want(t, r, false, 3, 3)
	}
	an, _ := ParseAnchor([]byte(fmt.Sprintf(`{"entries": 2, "last_signature": %q}`, evs[1].Signature)))
	want(t, mustVerify(t, Spanforge, path, Options{Trust: Trust{Secret: sfSecret}, Anchor: &an}), true, -1, 3)
}

func TestSpanforgeNoSecret(t *testing.T) {
	g := newSFGen(t)
	path := writeSF(t, sfLines(t, sfChain(g)))
	if _, err := Verify(t.Context(), Spanforge, path, Options{}); err == nil {
		t.Error("no secret: want an error")
	}
	n := 0
	err := Walk(t.Context(), Spanforge, path, Options{}, func(r Record) error {
		if r.Verified || r.EventID == "" {
			t.Errorf("record %d: verified=%v id=%q", r.Index, r.Verified, r.EventID)
		}
		n++
		return nil
	})
	if err != nil || n != 5 {
		t.Errorf("walk: %v, %d records", err, n)
	}
}
