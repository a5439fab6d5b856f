package compat

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"unicode/utf8"

	"lukechampine.com/blake3"
)

// Spine records are parsed, hashed and (when the key is known up front)
// signature-checked by the workers; the sequencer in spine.go links them.

// spRec is what a worker learns from one line. Byte slices point into the
// batch's data or into private copies.
type spRec struct {
	parseErr    string // not UTF-8 or not JSON: a torn write if it is a segment's unterminated last line
	fieldErr    string // a required field is missing or has the wrong type
	eventID     []byte
	streamID    []byte
	prevHash    []byte
	payloadHash []byte
	keyID       []byte
	pubKey      []byte // embedded public_key, decoded; nil if it is not 32 bytes of hex
	hasPub      bool
	seq         uint64
	seqOK       bool // seq is an integer that fits u64
	seqText     string
	tsNS        int64
	tsOK        bool
	tsText      string
	tsPresent   bool
	payloadErr  string
	hashOK      bool     // payload_hash matches
	entryOK     bool     // entry hash computed
	entry       [64]byte // entry hash, hex
	sig         [64]byte
	sigOK       bool // sig_client is 128 hex
	checkedKey  []byte
	sigValid    bool // signature verified under checkedKey
	rotKeyID    string
	rotKey      []byte // payload of a key_rotation record
	payload     []byte
	kind, actor string
	resource    string
}

type spBatch struct {
	lineBatch
	rec []spRec
}

// spWorker holds one worker's reusable state; initial is read-only.
type spWorker struct {
	p       jparser
	c       canonicalizer
	canon   []byte
	initial map[string][]byte
	entryIn [144]byte
}

func (w *spWorker) work(b *spBatch) {
	if cap(b.rec) < b.len() {
		b.rec = make([]spRec, b.len())
	} else {
		b.rec = b.rec[:b.len()]
		clear(b.rec)
	}
	for k := range b.rec {
		if b.long[k] {
			b.rec[k].parseErr = fmt.Sprintf("a line longer than %d bytes (not read)", MaxLineSize)
			continue
		}
		w.record(trimLine(b.line(k)), &b.rec[k])
	}
}

func (w *spWorker) stable(i int32) []byte {
	if w.p.nodes[i].flags&flagArena != 0 {
		return bytes.Clone(w.p.text(i))
	}
	return w.p.text(i)
}

// str fetches a required string member; it records the first field error.
func (w *spWorker) str(obj int32, key string, r *spRec) []byte {
	v := w.p.member(obj, key)
	switch {
	case v < 0:
		if r.fieldErr == "" {
			r.fieldErr = key + " is missing"
		}
		return nil
	case w.p.nodes[v].kind != jString:
		if r.fieldErr == "" {
			r.fieldErr = key + " is not a string"
		}
		return nil
	}
	return w.stable(v)
}

func (w *spWorker) record(line []byte, r *spRec) {
	if !utf8.Valid(line) {
		r.parseErr = "not valid UTF-8"
		return
	}
	p := &w.p
	if err := p.parse(line); err != nil {
		r.parseErr = "not valid JSON: " + err.Error()
		return
	}
	if p.nodes[0].kind != jObject {
		r.fieldErr = "not a JSON object"
		return
	}
	r.eventID = w.str(0, "event_id", r)
	r.streamID = w.str(0, "stream_id", r)
	r.prevHash = w.str(0, "prev_hash", r)
	ts := w.str(0, "ts_client", r)
	r.payloadHash = w.str(0, "payload_hash", r)
	sig := w.str(0, "sig_client", r)
	r.keyID = w.str(0, "key_id", r)
	if v := p.member(0, "public_key"); v >= 0 && p.nodes[v].kind != jNull {
		if p.nodes[v].kind != jString {
			r.fieldErr = "public_key is not a string"
		} else {
			r.hasPub = true
			if k, err := hex.DecodeString(string(p.text(v))); err == nil && len(k) == ed25519.PublicKeySize {
				r.pubKey = k
			}
		}
	}
	switch v := p.member(0, "seq"); {
	case v < 0:
		r.fieldErr = "seq is missing"
	case p.nodes[v].kind != jInt:
		r.fieldErr = "seq is not an integer"
	default:
		r.seqText = string(p.text(v))
		r.seq, r.seqOK = parseU64(r.seqText)
	}
	if ts != nil {
		r.tsText, r.tsPresent = string(ts), true
		r.tsNS, r.tsOK = parseISOTimeNS(r.tsText)
	}
	if len(sig) == 128 {
		_, err := hex.Decode(r.sig[:], sig)
		r.sigOK = err == nil
	}
	payload := p.member(0, "payload")
	if payload < 0 {
		r.fieldErr = "payload is missing"
	} else {
		w.payload(payload, r)
	}
	w.entryHash(r)
	w.verifySig(r)
}

func (w *spWorker) payload(v int32, r *spRec) {
	p := &w.p
	r.payload = p.raw(v)
	var err error
	w.canon, err = w.c.appendCanon(w.canon[:0], p, v, spineCanon)
	if err != nil {
		r.payloadErr = err.Error()
	} else if r.payloadHash != nil {
		sum := blake3.Sum256(w.canon)
		var want [64]byte
		hex.Encode(want[:], sum[:])
		r.hashOK = bytes.Equal(want[:], r.payloadHash)
	}
	if p.nodes[v].kind != jObject {
		return
	}
	if t, ok, _ := p.stringMember(v, "type"); ok && string(t) == "key_rotation" {
		id, okID, _ := p.stringMember(v, "new_key_id")
		key, okKey, _ := p.stringMember(v, "new_public_key")
		if okID && okKey {
			if k, err := hex.DecodeString(string(key)); err == nil && len(k) == ed25519.PublicKeySize {
				r.rotKeyID, r.rotKey = string(id), k
			}
		}
	}
	r.kind = firstString(p, v, "event_type", "type", "action")
	r.actor = firstString(p, v, "actor", "actor_id", "user", "user_id")
	r.resource = firstString(p, v, "resource", "target", "object")
}

func firstString(p *jparser, obj int32, keys ...string) string {
	for _, k := range keys {
		if s, ok, _ := p.stringMember(obj, k); ok {
			return string(s)
		}
	}
	return ""
}

// entryHash computes BLAKE3(u64le(seq) ‖ i64le(ts_ns) ‖ prev_hash ‖ payload_hash).
func (w *spWorker) entryHash(r *spRec) {
	if !r.seqOK || !r.tsOK || r.prevHash == nil || r.payloadHash == nil {
		return
	}
	in := w.entryIn[:0]
	in = binary.LittleEndian.AppendUint64(in, r.seq)
	in = binary.LittleEndian.AppendUint64(in, uint64(r.tsNS))
	in = append(in, r.prevHash...)
	in = append(in, r.payloadHash...)
	sum := blake3.Sum256(in)
	hex.Encode(r.entry[:], sum[:])
	r.entryOK = true
}

// verifySig checks sig_client over the 64 ASCII bytes of the entry hash,
// under the embedded public key if there is one (the sequencer then checks
// that it is the trusted one), else under the initially trusted key.
func (w *spWorker) verifySig(r *spRec) {
	if !r.entryOK || !r.sigOK {
		return
	}
	key := w.initial[string(r.keyID)]
	if r.pubKey != nil {
		key = r.pubKey
	}
	if key == nil {
		return
	}
	r.checkedKey = key
	r.sigValid = ed25519.Verify(key, r.entry[:], r.sig[:])
}

func parseU64(s string) (uint64, bool) {
	if s == "" || s[0] == '-' {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		d := uint64(s[i] - '0')
		if n > (1<<64-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}
