package compat

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"strings"
	"time"
)

var zeroHash = strings.Repeat("0", 64)

func (s *spSeq) consume(batch *spBatch) error {
	defer spPool.Put(batch)
	for k := range batch.rec {
		r := &batch.rec[k]
		file := s.segs[batch.file[k]]
		if r.parseErr != "" && !batch.nl[k] {
			// The unterminated last line of a segment that does not
			// parse: a torn write left by a crash.
			s.b.warn(WarnTornLineSkipped)
			s.b.r.TornLines++
			s.b.note("Skipped a torn write (unterminated last line that does not parse) at line %d of %s.", batch.lines[k], file)
			continue
		}
		reasons := s.check(r)
		if len(reasons) > 0 {
			s.b.bad(s.i, file, batch.lines[k], false, reasons...)
		} else if r.rotKey != nil {
			s.trusted[r.rotKeyID] = r.rotKey
			s.b.note("Key rotation at seq %d (index %d): key %q is trusted from the next record on.", r.seq, s.i, r.rotKeyID)
		}
		if s.fn != nil {
			if err := s.fn(s.record(batch, k, file, reasons)); err != nil {
				return err
			}
		}
		s.lastFile = file
		s.i++
	}
	return nil
}

// check applies the verification rules to record s.i.
func (s *spSeq) check(r *spRec) []string {
	out := s.reasons[:0]
	defer func() { s.reasons = out }()
	i := s.i
	if r.parseErr != "" {
		s.prevOK, s.prevSeqOK, s.prevTSOK, s.lastOK = false, false, false, false
		return append(out, r.parseErr)
	}
	if r.fieldErr != "" {
		out = append(out, r.fieldErr)
	}
	if r.streamID != nil {
		if !s.streamSet {
			s.stream, s.streamSet = string(r.streamID), true
		} else if string(r.streamID) != s.stream {
			out = append(out, fmt.Sprintf("stream_id %q is not this WAL's stream %q", r.streamID, s.stream))
		}
	}
	switch {
	case r.seqText == "":
	case i == 0 && (!r.seqOK || r.seq != 1):
		out = append(out, fmt.Sprintf("seq %s, want 1: the WAL does not start at its genesis record (pruned by retention, or cut)", r.seqText))
	case i > 0 && s.prevSeqOK && (!r.seqOK || r.seq != s.prevSeq+1):
		out = append(out, fmt.Sprintf("seq %s, want %d: records deleted, inserted or out of order", r.seqText, s.prevSeq+1))
	}
	switch {
	case r.prevHash == nil:
	case i == 0 && string(r.prevHash) != zeroHash:
		out = append(out, "the first record's prev_hash is not 64 zeros")
	case i > 0 && s.prevOK && string(r.prevHash) != string(s.prevEntry[:]):
		out = append(out, "prev_hash is not the previous record's entry hash")
	}
	if r.tsPresent && !r.tsOK {
		out = append(out, fmt.Sprintf("ts_client %q is not an ISO 8601 time", r.tsText))
	} else if r.tsOK && s.prevTSOK && r.tsNS < s.prevTS {
		out = append(out, "ts_client is earlier than the previous record's")
	}
	switch {
	case r.payloadErr != "":
		out = append(out, r.payloadErr)
	case r.payloadHash != nil && !r.hashOK && r.fieldErr == "":
		out = append(out, "payload_hash does not match the payload")
	}
	out = s.checkKey(r, out)
	if s.serverKey && r.eventID != nil {
		if why, had := s.receipts.check(r.eventID, r.payloadHash); had {
			if why != "" {
				out = append(out, "bad receipt: "+why)
			} else {
				s.b.r.ReceiptsChecked++
			}
		}
	}
	s.prevEntry, s.prevOK = r.entry, r.entryOK
	s.lastEntry, s.lastOK = r.entry, r.entryOK
	s.prevSeq, s.prevSeqOK = r.seq, r.seqOK
	if r.tsOK {
		s.prevTS, s.prevTSOK = r.tsNS, true
	}
	if r.entryOK && s.anchor != nil {
		s.anchor.observe(i, string(r.entry[:]))
	}
	return out
}

// checkKey applies rule 7: trusted key_id, matching embedded key, valid
// signature under the trusted key.
func (s *spSeq) checkKey(r *spRec, out []string) []string {
	if r.keyID == nil {
		return out
	}
	key, ok := s.trusted[string(r.keyID)]
	switch {
	case !ok:
		return append(out, fmt.Sprintf("key_id %q is not trusted", r.keyID))
	case r.hasPub && !bytes.Equal(r.pubKey, key):
		return append(out, fmt.Sprintf("the embedded public_key is not the trusted key for key_id %q", r.keyID))
	case !r.sigOK:
		if r.fieldErr == "" {
			out = append(out, "sig_client is not 128 hex digits")
		}
		return out
	case !r.entryOK:
		return out
	}
	valid := r.sigValid
	if !bytes.Equal(r.checkedKey, key) {
		valid = ed25519.Verify(key, r.entry[:], r.sig[:])
	}
	if !valid {
		return append(out, fmt.Sprintf("Ed25519 signature does not verify under the trusted key %q", r.keyID))
	}
	s.b.r.SignaturesChecked++
	s.b.usedKey(string(r.keyID))
	return out
}

func (s *spSeq) record(batch *spBatch, k int, file string, reasons []string) Record {
	r := &batch.rec[k]
	rec := Record{Format: Spine, Index: s.i, Ordinal: s.i, File: file, Line: batch.lines[k],
		Raw: bytes.Clone(batch.line(k)), Verified: len(reasons) == 0, Problem: strings.Join(reasons, "; ")}
	if r.entryOK {
		rec.Hash = string(r.entry[:])
	}
	rec.PrevHash, rec.Checksum, rec.EventID, rec.KeyID = string(r.prevHash), string(r.payloadHash), string(r.eventID), string(r.keyID)
	rec.Kind, rec.Actor, rec.Resource = r.kind, r.actor, r.resource
	rec.Payload = bytes.Clone(r.payload)
	if r.tsOK {
		rec.Time = time.Unix(0, r.tsNS).UTC()
	}
	return rec
}

func (s *spSeq) finish() *Report {
	b := s.b
	b.r.Records = s.i
	s.checkHead()
	if bad, missing, at, why := s.anchor.verdict(s.i); bad {
		b.bad(at, s.dir, 0, missing, why)
	}
	if s.serverKey {
		if left := len(s.receipts.byEvent); left > 0 {
			b.note("%d receipt(s) name events that are not in the WAL.", left)
		}
	}
	return b.finish(s.anchor != nil)
}
