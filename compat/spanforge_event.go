package compat

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"unicode/utf8"
)

// spanforge events are parsed and hashed by the workers; everything that
// depends on the previous event (prev_id links, which secret is current) is
// left to the sequencer in spanforge.go.

const (
	sfTombstoneType = "llm.audit.tombstone"
	sfChecksumPre   = "sha256:"
	sfSignaturePre  = "hmac-sha256:"
)

// sfEvent is what a worker learns from one line. Byte slices point into the
// batch's data, or into a private copy when the JSON string held escapes.
type sfEvent struct {
	parseErr   string
	eventID    []byte
	prevID     []byte
	hasPrev    bool
	prevBad    bool // prev_id present but not a string
	checksum   []byte
	signature  []byte
	noChecksum bool
	noSig      bool
	badType    string // a covered field has the wrong type
	checksumOK bool
	computed   [32]byte // SHA-256 of the canonical payload
	sigOK      bool     // signature matches under the primary secret
	rotation   bool
	newHash    []byte // rotation payload's new_secret_hash
	tombstone  bool
	// For Walk.
	eventType, actor, source, timestamp []byte
	payload                             []byte
}

type sfBatch struct {
	lineBatch
	ev []sfEvent
}

// sfWorker holds one worker's reusable state.
type sfWorker struct {
	p     jparser
	c     canonicalizer
	canon []byte
	mac   hash.Hash
	msg   []byte
	sum   []byte
	want  []byte
}

func newSFWorker(primary string) *sfWorker {
	w := &sfWorker{}
	if primary != "" {
		w.mac = hmac.New(sha256.New, []byte(primary))
	}
	return w
}

func (w *sfWorker) work(b *sfBatch) {
	if cap(b.ev) < b.len() {
		b.ev = make([]sfEvent, b.len())
	} else {
		b.ev = b.ev[:b.len()]
		clear(b.ev)
	}
	for k := range b.ev {
		if b.long[k] {
			b.ev[k].parseErr = fmt.Sprintf("a line longer than %d bytes (not read)", MaxLineSize)
			continue
		}
		w.event(trimLine(b.line(k)), &b.ev[k])
	}
}

// stable returns the bytes of string node i in a form that outlives the
// parser's arena.
func (w *sfWorker) stable(i int32) []byte {
	t := w.p.text(i)
	if w.p.nodes[i].flags&flagArena != 0 {
		return bytes.Clone(t)
	}
	return t
}

func (w *sfWorker) event(line []byte, e *sfEvent) {
	if !utf8.Valid(line) {
		e.parseErr = "not valid UTF-8"
		return
	}
	p := &w.p
	if err := p.parse(line); err != nil {
		e.parseErr = "not valid JSON: " + err.Error()
		return
	}
	if p.nodes[0].kind != jObject {
		e.parseErr = "not a JSON object"
		return
	}
	root := p.nodes[0]
	payload := int32(-1)
	var eventIDNode int32 = -1
	for k := root.a; k < root.a+2*root.b; k += 2 {
		key, v := p.text(p.kids[k]), p.kids[k+1]
		isStr := p.nodes[v].kind == jString
		isNull := p.nodes[v].kind == jNull
		switch string(key) {
		case "event_id":
			eventIDNode = v
		case "payload":
			payload = v
		case "prev_id":
			e.hasPrev, e.prevBad, e.prevID = !isNull, !isStr && !isNull, nil
			if isStr {
				e.prevID = w.stable(v)
			}
		case "checksum":
			e.checksum = nil
			if isStr {
				e.checksum = w.stable(v)
			} else if !isNull {
				e.badType = "checksum is not a string"
			}
		case "signature":
			e.signature = nil
			if isStr {
				e.signature = w.stable(v)
			} else if !isNull {
				e.badType = "signature is not a string"
			}
		case "event_type":
			e.eventType = nil
			if isStr {
				e.eventType = w.stable(v)
			}
		case "actor_id":
			if isStr {
				e.actor = w.stable(v)
			}
		case "source":
			if isStr {
				e.source = w.stable(v)
			}
		case "timestamp":
			if isStr {
				e.timestamp = w.stable(v)
			}
		}
	}
	if eventIDNode < 0 || p.nodes[eventIDNode].kind != jString {
		e.parseErr = "no string event_id"
		return
	}
	e.eventID = w.stable(eventIDNode)
	if payload < 0 || p.nodes[payload].kind != jObject {
		e.parseErr = "no object payload"
		return
	}
	e.payload = p.raw(payload)
	e.noChecksum = e.checksum == nil
	e.noSig = e.signature == nil
	w.markers(payload, e)

	var err error
	w.canon, err = w.c.appendCanon(w.canon[:0], p, payload, spanforgeCanon)
	if err != nil {
		e.badType = "payload cannot be serialised: " + err.Error()
		return
	}
	e.computed = sha256.Sum256(w.canon)
	w.want = append(w.want[:0], sfChecksumPre...)
	w.want = hex.AppendEncode(w.want, e.computed[:])
	e.checksumOK = e.checksum != nil && bytes.Equal(w.want, e.checksum)
	if w.mac != nil && e.checksum != nil && e.signature != nil {
		e.sigOK = w.sign(w.mac, e)
	}
}

// sign computes the signature of e under mac and compares it.
func (w *sfWorker) sign(mac hash.Hash, e *sfEvent) bool {
	w.msg = append(w.msg[:0], e.eventID...)
	w.msg = append(w.msg, '|')
	w.msg = append(w.msg, e.checksum...)
	w.msg = append(w.msg, '|')
	w.msg = append(w.msg, e.prevID...)
	mac.Reset()
	mac.Write(w.msg)
	w.sum = mac.Sum(w.sum[:0])
	w.want = append(w.want[:0], sfSignaturePre...)
	w.want = hex.AppendEncode(w.want, w.sum)
	return bytes.Equal(w.want, e.signature)
}

// markers notes rotation and tombstone events. A rotation is recognised by
// its payload (covered by the MAC), never by event_type, which anyone can
// edit; a tombstone by either, since it only changes what is reported.
func (w *sfWorker) markers(payload int32, e *sfEvent) {
	p := &w.p
	m := p.member(payload, "rotation_marker")
	if m >= 0 && (p.nodes[m].kind == jTrue || (p.nodes[m].kind == jString && string(p.text(m)) == "true")) {
		e.rotation = true
		if h, ok, _ := p.stringMember(payload, "new_secret_hash"); ok {
			e.newHash = bytes.Clone(h)
		}
	}
	if string(e.eventType) == sfTombstoneType || p.member(payload, "erased_subject_id_hash") >= 0 {
		e.tombstone = true
	}
}
