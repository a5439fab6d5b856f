package compat

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"strings"
	"sync"
	"time"
)

// The per-line half of immutable-logging verification: batches of paired
// log and sidecar lines, checked by the workers, and the Record for Walk.

// ilBatch pairs log lines with sidecar lines; either may have run out.
type ilBatch struct {
	log, side       lineBatch
	hasLog, hasSide []bool
	logIdx, sideIdx []int
	res             []ilResult
	logNL           []bool
	logHash         []hash.Hash // of a log line longer than MaxLineSize, hashed as it was read
}

var ilPool = sync.Pool{New: func() any { return new(ilBatch) }}

func newILBatch() *ilBatch {
	b := ilPool.Get().(*ilBatch)
	b.log.reset()
	b.side.reset()
	b.hasLog, b.hasSide, b.logIdx, b.sideIdx, b.logNL = b.hasLog[:0], b.hasSide[:0], b.logIdx[:0], b.sideIdx[:0], b.logNL[:0]
	clear(b.logHash)
	b.logHash = b.logHash[:0]
	return b
}

// add pairs a log line with a sidecar line; h, when not nil, has hashed a
// log line too long to keep (l is then only its start).
func (b *ilBatch) add(l []byte, lok, lnl bool, h hash.Hash, s []byte, sok bool) {
	b.hasLog, b.hasSide, b.logNL = append(b.hasLog, lok), append(b.hasSide, sok), append(b.logNL, lnl)
	b.logHash = append(b.logHash, h)
	b.logIdx, b.sideIdx = append(b.logIdx, b.log.len()), append(b.sideIdx, b.side.len())
	if lok {
		b.log.add(l, 0, lnl, 0)
	}
	if sok {
		b.side.add(s, 0, true, 0)
	}
}

func (b *ilBatch) full() bool {
	return len(b.hasLog) >= batchLines || len(b.log.data)+len(b.side.data) >= batchBytes
}

type ilResult struct {
	wellFormed bool
	n          uint64
	nOverflow  bool
	nText      string
	h, p       []byte // hex, in the batch's sidecar data
	hashOK     bool
}

// ilWork checks each pair of lines on its own: the sidecar line's form and
// H = SHA-256(line ‖ P). Links between entries are the sequencer's job.
func ilWork(b *ilBatch) {
	if cap(b.res) < len(b.hasLog) {
		b.res = make([]ilResult, len(b.hasLog))
	} else {
		b.res = b.res[:len(b.hasLog)]
		clear(b.res)
	}
	var buf []byte
	var sum [32]byte
	var want [64]byte
	for k := range b.hasLog {
		if !b.hasLog[k] || !b.hasSide[k] {
			continue
		}
		res := &b.res[k]
		s := b.side.line(b.sideIdx[k])
		if !parseSidecar(s, res) {
			continue
		}
		if h := b.logHash[k]; h != nil {
			h.Write(res.p)
			h.Sum(sum[:0])
		} else {
			buf = append(append(buf[:0], b.log.line(b.logIdx[k])...), res.p...)
			sum = sha256.Sum256(buf)
		}
		hex.Encode(want[:], sum[:])
		res.hashOK = bytes.Equal(want[:], res.h)
	}
}

// parseSidecar matches ^[0-9]+\|sha256=[0-9a-f]{64}\|prev=[0-9a-f]{64}$.
func parseSidecar(s []byte, res *ilResult) bool {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	const tail = len("|sha256=") + 64 + len("|prev=") + 64
	if i == 0 || len(s)-i != tail {
		return false
	}
	rest := s[i:]
	if string(rest[:8]) != "|sha256=" || string(rest[72:78]) != "|prev=" || !lowerHex(rest[8:72]) || !lowerHex(rest[78:]) {
		return false
	}
	res.wellFormed = true
	res.h, res.p = rest[8:72], rest[78:]
	for _, c := range s[:i] {
		if res.n > (1<<64-1-9)/10 {
			res.nOverflow, res.nText = true, string(s[:i])
			break
		}
		res.n = res.n*10 + uint64(c-'0')
	}
	return true
}

func lowerHex(s []byte) bool {
	for _, c := range s {
		if !isDigit(c) && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func (pv *ilPair) record(batch *ilBatch, k int, reasons []string) Record {
	line := batch.log.line(batch.logIdx[k])
	rec := Record{Format: ImmutableLogging, Index: pv.n, Ordinal: pv.ordinal + pv.n, File: pv.path,
		Line: pv.n + 1, Raw: bytes.Clone(line), Verified: len(reasons) == 0, Problem: strings.Join(reasons, "; ")}
	if batch.hasSide[k] {
		rec.Sidecar = bytes.Clone(batch.side.line(batch.sideIdx[k]))
		if res := &batch.res[k]; res.wellFormed {
			rec.Hash, rec.PrevHash = string(res.h), string(res.p)
		}
	}
	rec.Time, rec.Kind, rec.Resource = parseLogLine(line)
	return rec
}

// Layouts of the leading timestamp of a log line, as Python's logging
// writes it (asctime) or as an ISO time.
var logTimeLayouts = []string{
	"2006-01-02T15:04:05.000000",
	"2006-01-02T15:04:05.000",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05,000",
	"2006-01-02 15:04:05.000",
	"2006-01-02 15:04:05",
}

// parseLogLine picks the time, level and logger out of a line formatted as
// "TIME [LEVEL] logger: message" (SingleLineFormatter's usual format) or
// "TIME - logger - LEVEL - message". Anything it cannot find is left empty.
// The time has no zone in the line; it is read as UTC.
func parseLogLine(line []byte) (t time.Time, level, logger string) {
	s := string(line[:min(len(line), 512)])
	for _, layout := range logTimeLayouts {
		if len(s) >= len(layout) {
			if tt, err := time.Parse(layout, s[:len(layout)]); err == nil {
				t, s = tt, s[len(layout):]
				break
			}
		}
	}
	if t.IsZero() {
		return t, "", ""
	}
	s = strings.TrimLeft(s, " ")
	if strings.HasPrefix(s, "[") {
		if end := strings.IndexByte(s, ']'); end > 0 {
			level = s[1:end]
			rest := strings.TrimLeft(s[end+1:], " ")
			if colon := strings.Index(rest, ": "); colon > 0 && !strings.ContainsAny(rest[:colon], " \t") {
				logger = rest[:colon]
			}
		}
		return t, level, logger
	}
	if strings.HasPrefix(s, "- ") {
		parts := strings.SplitN(s[2:], " - ", 3)
		if len(parts) == 3 {
			logger, level = parts[0], parts[1]
		}
	}
	return t, level, logger
}
