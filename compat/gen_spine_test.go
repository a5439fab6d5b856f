package compat

import (
	"crypto/ed25519"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lukechampine.com/blake3"
)

// ---- Spine ----

// spineGen writes Spine WAL records: Python json.dumps defaults, fields in
// the SDK's order.
type spineGen struct {
	t      testing.TB
	keys   map[string]ed25519.PrivateKey
	stream string
	seq    uint64
	prev   string
	ts     time.Time
}

// spRecSpec is one record before it is written; tests may edit it.
type spRecSpec struct {
	EventID, StreamID, Prev, TS, Payload, PayloadHash, Sig, KeyID, Pub string
	Seq                                                                uint64
	NoPub                                                              bool
}

func newSpineGen(t testing.TB) *spineGen {
	g := &spineGen{t: t, keys: map[string]ed25519.PrivateKey{}, stream: "stream_e438120fb77e10f6",
		prev: zeroHash, ts: time.Date(2026, 3, 2, 9, 0, 2, 617477000, time.UTC)}
	g.addKey("kid_a", 1)
	return g
}

func (g *spineGen) addKey(id string, seed byte) string {
	s := make([]byte, 32)
	s[0] = seed
	priv := ed25519.NewKeyFromSeed(s)
	g.keys[id] = priv
	return hex.EncodeToString(priv.Public().(ed25519.PublicKey))
}

func (g *spineGen) pub(id string) string {
	return hex.EncodeToString(g.keys[id].Public().(ed25519.PublicKey))
}

func (g *spineGen) trust(ids ...string) Trust {
	var t Trust
	for _, id := range ids {
		t.Keys = append(t.Keys, KeyRef{KeyID: id, PublicKey: g.pub(id)})
	}
	return t
}

func pyISO(t time.Time) string {
	if t.Nanosecond()/1000 == 0 {
		return t.UTC().Format("2006-01-02T15:04:05") + "+00:00"
	}
	return t.UTC().Format("2006-01-02T15:04:05.000000") + "+00:00"
}

func spineEntryHash(seq uint64, tsNS int64, prev, payloadHash string) string {
	in := binary.LittleEndian.AppendUint64(nil, seq)
	in = binary.LittleEndian.AppendUint64(in, uint64(tsNS))
	in = append(append(in, prev...), payloadHash...)
	sum := blake3.Sum256(in)
	return hex.EncodeToString(sum[:])
}

// next makes the next record of the chain, signed by keyID.
func (g *spineGen) next(payload, keyID string) *spRecSpec {
	g.seq++
	g.ts = g.ts.Add(2500 * time.Millisecond)
	r := &spRecSpec{EventID: fmt.Sprintf("evt_%08d-0000-4000-8000-000000000000", g.seq), StreamID: g.stream,
		Seq: g.seq, Prev: g.prev, TS: pyISO(g.ts), Payload: payload, KeyID: keyID}
	if isFloaty(payload) {
		r.PayloadHash = strings.Repeat("ab", 32)
	} else {
		sum := blake3.Sum256(canonOf(g.t, payload, spineCanon))
		r.PayloadHash = hex.EncodeToString(sum[:])
	}
	g.sign(r, keyID)
	g.prev = spineEntryHash(r.Seq, g.ts.UnixNano()/1000*1000, r.Prev, r.PayloadHash)
	return r
}

func isFloaty(payload string) bool {
	var p jparser
	var c canonicalizer
	if p.parse([]byte(payload)) != nil {
		return false
	}
	_, err := c.appendCanon(nil, &p, 0, spineCanon)
	return err == errFloatInPayload
}

// sign (re)signs r with keyID after its fields were edited.
func (g *spineGen) sign(r *spRecSpec, keyID string) {
	ns, ok := parseISOTimeNS(r.TS)
	if !ok {
		g.t.Fatalf("bad ts %q", r.TS)
	}
	entry := spineEntryHash(r.Seq, ns, r.Prev, r.PayloadHash)
	r.Sig = hex.EncodeToString(ed25519.Sign(g.keys[keyID], []byte(entry)))
	r.KeyID, r.Pub = keyID, g.pub(keyID)
}

func (r *spRecSpec) line() string {
	s := fmt.Sprintf(`{"format_version": 1, "event_id": %q, "stream_id": %q, "seq": %d, "prev_hash": %q, "ts_client": %q, "payload": %s, "payload_hash": %q, "hash_alg": "blake3", "sig_client": %q, "key_id": %q`,
		r.EventID, r.StreamID, r.Seq, r.Prev, r.TS, r.Payload, r.PayloadHash, r.Sig, r.KeyID)
	if !r.NoPub {
		s += fmt.Sprintf(`, "public_key": %q`, r.Pub)
	}
	return s + "}\n"
}

// writeWAL writes segments (name → lines) plus stream.meta.json and, when
// head is not nil, chain_state.json for it.
func writeWAL(t testing.TB, dir string, segs map[string][]*spRecSpec, head *spRecSpec, stream string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, recs := range segs {
		var b strings.Builder
		for _, r := range recs {
			b.WriteString(r.line())
		}
		writeFile(t, filepath.Join(dir, name), b.String())
	}
	writeFile(t, filepath.Join(dir, "stream.meta.json"), fmt.Sprintf("{\n  \"stream_id\": %q,\n  \"created_at\": \"2026-03-02T09:00:00.117203+00:00\",\n  \"initial_key_id\": \"kid_a\",\n  \"namespace\": null\n}", stream))
	if head != nil {
		ns, _ := parseISOTimeNS(head.TS)
		writeFile(t, filepath.Join(dir, "chain_state.json"), fmt.Sprintf(`{"stream_id": %q, "seq": %d, "prev_hash": %q, "updated_at": "2026-03-02T09:00:19.250137+00:00"}`,
			stream, head.Seq, spineEntryHash(head.Seq, ns, head.Prev, head.PayloadHash)))
	}
}
