package compat

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"unicode/utf8"
)

// receipt is what sealog keeps of one receipts.jsonl line: enough to judge
// it against the record it names. Only the last line per event_id is kept.
type receipt struct {
	eventID     string // the receipt's own event_id
	payloadHash string
	err         string // why the receipt fails on its own, "" if it is good
}

// receiptSet holds the receipts of a WAL, indexed by the outer event_id.
type receiptSet struct {
	byEvent  map[string]*receipt
	lines    int
	unusable int // lines that name no event
}

// loadReceipts reads receipts.jsonl. With a server key each receipt is
// checked; without one only the lines are counted. A missing file is an
// empty set.
func loadReceipts(dir string, server *KeyRef) (*receiptSet, error) {
	path := filepath.Join(dir, "receipts.jsonl")
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &receiptSet{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("spine: receipts: %w", err)
	}
	defer f.Close()
	rs := &receiptSet{byEvent: map[string]*receipt{}}
	var key ed25519.PublicKey
	keyErr := ""
	if server != nil {
		k, err := hex.DecodeString(server.PublicKey)
		if err != nil || len(k) != ed25519.PublicKeySize {
			keyErr = "the server key is not 32 bytes of hex"
		}
		key = k
	}
	lr := newLineReader(f, path)
	var p jparser
	for {
		line, _, ok, err := lr.next()
		if err != nil {
			return nil, fmt.Errorf("spine: %w", err)
		}
		if !ok {
			break
		}
		line = trimLine(line)
		if len(line) == 0 {
			continue
		}
		rs.lines++
		if server == nil {
			continue
		}
		if !utf8.Valid(line) || p.parse(line) != nil || p.nodes[0].kind != jObject {
			rs.unusable++
			continue
		}
		outer, ok, _ := p.stringMember(0, "event_id")
		if !ok {
			rs.unusable++
			continue
		}
		rs.byEvent[string(outer)] = checkReceipt(&p, server, key, keyErr)
	}
	return rs, nil
}

// checkReceipt judges a parsed receipts.jsonl line on its own: the server
// key id, and the Ed25519 signature over event_id|payload_hash|server_time|server_seq.
func checkReceipt(p *jparser, server *KeyRef, key ed25519.PublicKey, keyErr string) *receipt {
	r := &receipt{}
	rc := p.member(0, "receipt")
	if rc < 0 || p.nodes[rc].kind != jObject {
		r.err = "the receipt line has no receipt object"
		return r
	}
	get := func(k string) (string, bool) {
		s, ok, _ := p.stringMember(rc, k)
		return string(s), ok
	}
	id, ok1 := get("event_id")
	ph, ok2 := get("payload_hash")
	st, ok3 := get("server_time")
	kid, ok4 := get("server_key_id")
	sigHex, ok5 := get("receipt_sig")
	r.eventID, r.payloadHash = id, ph
	seq := ""
	if v := p.member(rc, "server_seq"); v >= 0 {
		switch p.nodes[v].kind {
		case jInt:
			seq = string(appendPyInt(nil, p.text(v)))
		case jString:
			seq = string(p.text(v))
		}
	}
	switch {
	case !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || seq == "":
		r.err = "the receipt lacks event_id, payload_hash, server_time, server_seq, server_key_id or receipt_sig"
	case keyErr != "":
		r.err = keyErr
	case server.KeyID != "" && kid != server.KeyID:
		r.err = fmt.Sprintf("the receipt's server_key_id %q is not the server key's id %q", kid, server.KeyID)
	default:
		sig, err := hex.DecodeString(sigHex)
		msg := id + "|" + ph + "|" + st + "|" + seq
		if err != nil || len(sig) != ed25519.SignatureSize || !ed25519.Verify(key, []byte(msg), sig) {
			r.err = "the receipt's signature does not verify under the server key"
		}
	}
	return r
}

// check judges the receipt for a record, if there is one: "" when there is
// none or it is good.
func (rs *receiptSet) check(eventID, payloadHash []byte) (reason string, had bool) {
	r, ok := rs.byEvent[string(eventID)]
	if !ok {
		return "", false
	}
	delete(rs.byEvent, string(eventID))
	switch {
	case r.err != "":
		return r.err, true
	case r.eventID != string(eventID):
		return fmt.Sprintf("the receipt names event %q", r.eventID), true
	case r.payloadHash != string(payloadHash):
		return "the receipt's payload_hash differs from the record's", true
	}
	return "", true
}
