package compat

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"os"
	"strings"
	"sync"
	"time"
)

// sfUnprotected lists the event fields that neither the checksum nor the
// HMAC covers.
var sfUnprotected = []string{"schema_version", "event_type", "timestamp", "source", "trace_id", "span_id",
	"parent_span_id", "org_id", "team_id", "actor_id", "session_id", "tags"}

func verifySpanforge(ctx context.Context, path string, opts Options, fn func(Record) error) (*Report, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("spanforge: %w", err)
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("spanforge: %s is a directory, want a JSONL file", path)
	}
	t := opts.Trust
	if fn == nil && t.Secret == "" && len(t.Secrets) == 0 {
		return nil, fmt.Errorf("spanforge: verify %s: no HMAC secret given (set secret in the trust file or SPANFORGE_HMAC_SECRET)", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("spanforge: %w", err)
	}
	defer f.Close()

	b := newBuilder(Spanforge)
	b.r.Files = []string{path}
	b.r.UnprotectedFields = append([]string(nil), sfUnprotected...)
	b.warn(WarnUnprotectedFields)
	b.note("The HMAC covers only event_id, the payload checksum and prev_id; fields %s are not covered: anyone can change them without breaking the chain.", strings.Join(sfUnprotected, ", "))
	s := newSFSeq(b, t, opts.Anchor, path, fn)

	produce := func(emit func(*sfBatch) error) error {
		sp := &splitter{r: f, name: path}
		for {
			batch := sfPool.Get().(*sfBatch)
			batch.reset()
			done, err := sp.fill(&batch.lineBatch, 0, true)
			if err != nil {
				return fmt.Errorf("spanforge: %w", err)
			}
			if batch.len() > 0 {
				if err := emit(batch); err != nil {
					return err
				}
			} else {
				sfPool.Put(batch)
			}
			if done {
				return nil
			}
		}
	}
	newWork := func() func(*sfBatch) { return newSFWorker(s.primary).work }
	if err := pipeline(ctx, produce, newWork, s.consume); err != nil {
		return nil, err
	}
	return s.finish(), nil
}

// sfSeq runs the checks that depend on earlier events, in file order.
type sfSeq struct {
	b         *builder
	t         Trust
	path      string
	fn        func(Record) error
	anchor    *anchorCheck
	primary   string
	cur       string // the secret in force
	curDesc   string
	curKnown  bool
	mac       hash.Hash // for cur, when cur is not the primary
	w         *sfWorker // for its sign helper
	i         int
	prev      []byte
	prevKnown bool
	chosen    bool // the starting secret has been settled
	rotated   bool // a rotation switched to an unknown secret
	reasons   []string
}

func newSFSeq(b *builder, t Trust, a *Anchor, path string, fn func(Record) error) *sfSeq {
	s := &sfSeq{b: b, t: t, path: path, fn: fn, anchor: newAnchorCheck(a), w: newSFWorker("")}
	s.primary, s.curDesc = t.Secret, "the given secret"
	if s.primary == "" && len(t.Secrets) > 0 {
		s.primary, s.curDesc = t.Secrets[0], "secrets[0]"
	}
	s.cur, s.curKnown = s.primary, s.primary != ""
	return s
}

func (s *sfSeq) setSecret(sec, desc string) {
	s.cur, s.curDesc, s.curKnown, s.rotated = sec, desc, true, false
	s.mac = nil
	if sec != s.primary {
		s.mac = hmac.New(sha256.New, []byte(sec))
	}
}

// sigMatches checks e's signature under the secret in force.
func (s *sfSeq) sigMatches(e *sfEvent) bool {
	if s.mac == nil {
		return e.sigOK
	}
	return s.w.sign(s.mac, e)
}

var sfPool = sync.Pool{New: func() any { return new(sfBatch) }}

func (s *sfSeq) consume(batch *sfBatch) error {
	defer sfPool.Put(batch)
	for k := range batch.ev {
		if err := s.event(batch, k); err != nil {
			return err
		}
	}
	return nil
}

func (s *sfSeq) event(batch *sfBatch, k int) error {
	e := &batch.ev[k]
	r := s.reasons[:0]
	if e.parseErr != "" {
		r = append(r, e.parseErr)
	} else {
		r = s.checkEvent(e, r)
	}
	if len(r) > 0 {
		s.b.bad(s.i, s.path, batch.lines[k], false, r...)
	} else if e.tombstone {
		s.b.tombstone(s.i)
	}
	if e.parseErr == "" {
		if s.anchor != nil {
			s.anchor.observe(s.i, string(e.signature), string(e.checksum), string(e.eventID))
		}
		s.prev, s.prevKnown = append(s.prev[:0], e.eventID...), true
		s.rotate(e)
	} else {
		s.prevKnown = false
	}
	s.reasons = r
	var err error
	if s.fn != nil {
		err = s.fn(s.record(batch, k, r))
	}
	s.i++
	return err
}

func (s *sfSeq) checkEvent(e *sfEvent, r []string) []string {
	if e.noChecksum {
		r = append(r, "no checksum")
	}
	if e.noSig {
		if string(e.eventType) == "llm.audit.chain_rotated" {
			r = append(r, "no signature (an unsigned chain_rotated line, as spanforge's exporter writes when it rotates files)")
		} else {
			r = append(r, "no signature")
		}
	}
	if e.badType != "" {
		r = append(r, e.badType)
	} else if !e.noChecksum && !e.checksumOK {
		r = append(r, "checksum does not match the payload")
	}
	if !e.noChecksum && !e.noSig {
		switch {
		case !s.curKnown && s.rotated:
			r = append(r, "signature cannot be checked: a key rotation earlier in the chain switched to a secret that is neither in key_map nor among the given secrets")
		case !s.curKnown:
			r = append(r, "signature not checked: no secret given")
		case s.sigMatches(e):
			s.b.r.SignaturesChecked++
			s.b.usedKey(s.curDesc)
		case !s.chosen && s.tryCandidates(e):
			s.b.r.SignaturesChecked++
			s.b.usedKey(s.curDesc)
		default:
			r = append(r, "HMAC signature does not match (under "+s.curDesc+")")
		}
		s.chosen = true
	}
	switch {
	case e.prevBad:
		r = append(r, "prev_id is not a string")
	case s.i == 0 && e.hasPrev:
		r = append(r, fmt.Sprintf("the first event has prev_id %q: the events before it are missing", e.prevID))
	case s.i > 0 && s.prevKnown && !e.hasPrev:
		r = append(r, "no prev_id, but it is not the first event")
	case s.i > 0 && s.prevKnown && !bytes.Equal(e.prevID, s.prev):
		r = append(r, fmt.Sprintf("prev_id %q does not link to the previous event %q (events deleted, inserted or reordered)", e.prevID, s.prev))
	}
	return r
}

// tryCandidates tries the other given secrets on the first signed event.
func (s *sfSeq) tryCandidates(e *sfEvent) bool {
	cands := append([]string{s.t.Secret}, s.t.Secrets...)
	for j, c := range cands {
		if c == "" || c == s.cur {
			continue
		}
		mac := hmac.New(sha256.New, []byte(c))
		if s.w.sign(mac, e) {
			desc := fmt.Sprintf("secrets[%d]", j-1)
			if j == 0 {
				desc = "the given secret"
			}
			s.setSecret(c, desc)
			s.b.note("The first signed event (index %d) verified under %s, not under the primary secret.", s.i, desc)
			return true
		}
	}
	return false
}

// rotate switches secrets after a key-rotation event.
func (s *sfSeq) rotate(e *sfEvent) {
	if len(s.t.KeyMap) == 0 && !e.rotation {
		return
	}
	id := string(e.eventID)
	if sec, ok := s.t.KeyMap[id]; ok {
		if e.newHash != nil && !sameHex(e.newHash, sha256Hex(sec)) {
			s.b.note("key_map's secret for rotation event %s does not match the new_secret_hash the event records.", id)
		}
		s.setSecret(sec, "key_map["+id+"]")
		return
	}
	if !e.rotation {
		return
	}
	for j, c := range append([]string{s.t.Secret}, s.t.Secrets...) {
		if c != "" && e.newHash != nil && sameHex(e.newHash, sha256Hex(c)) {
			desc := fmt.Sprintf("secrets[%d]", j-1)
			if j == 0 {
				desc = "the given secret"
			}
			s.setSecret(c, desc)
			s.b.note("Key rotation at event %s (index %d): new_secret_hash matches %s, used from there on.", id, s.i, desc)
			return
		}
	}
	s.curKnown, s.chosen, s.rotated = false, true, true
	s.b.note("Key rotation at event %s (index %d): the new secret is neither in key_map nor among the given secrets, so the events after it cannot be verified.", id, s.i)
}

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func sameHex(a []byte, b string) bool { return strings.EqualFold(string(a), b) }

func (s *sfSeq) record(batch *sfBatch, k int, reasons []string) Record {
	e := &batch.ev[k]
	rec := Record{Format: Spanforge, Index: s.i, Ordinal: s.i, File: s.path, Line: batch.lines[k],
		Raw: bytes.Clone(batch.line(k)), Verified: len(reasons) == 0, Problem: strings.Join(reasons, "; ")}
	if e.parseErr != "" {
		return rec
	}
	rec.Hash, rec.PrevHash, rec.Checksum = string(e.signature), string(e.prevID), string(e.checksum)
	rec.EventID, rec.Kind, rec.Actor, rec.Resource = string(e.eventID), string(e.eventType), string(e.actor), string(e.source)
	rec.Payload, rec.Tombstone = bytes.Clone(e.payload), e.tombstone
	if t, err := time.Parse(time.RFC3339Nano, string(e.timestamp)); err == nil {
		rec.Time = t
	}
	return rec
}

func (s *sfSeq) finish() *Report {
	b := s.b
	b.r.Records = s.i
	if bad, missing, at, why := s.anchor.verdict(s.i); bad {
		b.bad(at, s.path, 0, missing, why)
	}
	if b.r.TombstoneCount > 0 {
		b.note("%d tombstone(s): events replaced by GDPR erasure (erase_subject); they verify, but the original events cannot be recovered.", b.r.TombstoneCount)
	}
	return b.finish(s.anchor != nil)
}
