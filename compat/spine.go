package compat

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// spUnprotected lists the Spine record fields no hash or signature covers.
var spUnprotected = []string{"format_version", "event_id", "stream_id", "hash_alg", "key_id", "public_key"}

// spineSegments lists the segment files of a WAL directory in name order.
func spineSegments(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("spine: read WAL directory: %w", err)
	}
	var segs []string
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() && strings.HasPrefix(name, "segment_") && strings.HasSuffix(name, ".jsonl") {
			segs = append(segs, filepath.Join(dir, name))
		}
	}
	sort.Strings(segs)
	return segs, nil
}

func verifySpine(ctx context.Context, dir string, opts Options, fn func(Record) error) (*Report, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("spine: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("spine: %s is not a directory: give the WAL directory", dir)
	}
	segs, err := spineSegments(dir)
	if err != nil {
		return nil, err
	}
	b := newBuilder(Spine)
	b.r.Files = segs
	b.r.UnprotectedFields = append([]string(nil), spUnprotected...)
	b.warn(WarnUnprotectedFields)
	b.note("Fields %s are not signed: an edited event_id or key_id cannot be detected by anyone; stream_id is only checked for consistency. stream.meta.json, dead_letters.jsonl and receipts' attached_at are not protected either.", strings.Join(spUnprotected, ", "))
	s, err := newSpSeq(b, dir, segs, opts, fn)
	if err != nil {
		return nil, err
	}
	produce := func(emit func(*spBatch) error) error {
		batch := newSPBatch()
		for fi, seg := range segs {
			if err := readSegment(seg, fi, &batch, emit); err != nil {
				return err
			}
		}
		if batch.len() > 0 {
			return emit(batch)
		}
		return nil
	}
	newWork := func() func(*spBatch) { return (&spWorker{initial: s.initial}).work }
	if err := pipeline(ctx, produce, newWork, s.consume); err != nil {
		return nil, err
	}
	return s.finish(), nil
}

var spPool = sync.Pool{New: func() any { return new(spBatch) }}

func newSPBatch() *spBatch {
	b := spPool.Get().(*spBatch)
	b.reset()
	return b
}

// readSegment adds the non-blank lines of one segment to batches.
func readSegment(seg string, fi int, batch **spBatch, emit func(*spBatch) error) error {
	f, err := os.Open(seg)
	if err != nil {
		return fmt.Errorf("spine: %w", err)
	}
	defer f.Close()
	sp := &splitter{r: f, name: seg}
	for {
		done, err := sp.fill(&(*batch).lineBatch, fi, true)
		if err != nil {
			return fmt.Errorf("spine: %w", err)
		}
		if (*batch).full() {
			if err := emit(*batch); err != nil {
				return err
			}
			*batch = newSPBatch()
		}
		if done {
			return nil
		}
	}
}

// spSeq runs the checks that link each record to the one before, in order.
type spSeq struct {
	b         *builder
	dir       string
	segs      []string
	fn        func(Record) error
	anchor    *anchorCheck
	initial   map[string][]byte // read-only copy for the workers
	trusted   map[string][]byte
	receipts  *receiptSet
	serverKey bool
	stream    string
	streamSet bool
	i         int
	prevEntry [64]byte
	prevOK    bool
	prevSeq   uint64
	prevSeqOK bool
	prevTS    int64
	prevTSOK  bool
	lastEntry [64]byte
	lastOK    bool
	reasons   []string
	lastFile  string
}

func newSpSeq(b *builder, dir string, segs []string, opts Options, fn func(Record) error) (*spSeq, error) {
	s := &spSeq{b: b, dir: dir, segs: segs, fn: fn, anchor: newAnchorCheck(opts.Anchor),
		initial: map[string][]byte{}, trusted: map[string][]byte{}}
	for _, k := range opts.Trust.Keys {
		key, err := hex.DecodeString(k.PublicKey)
		if err != nil || len(key) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("spine: trusted key %q: public_key is not 32 bytes of hex", k.KeyID)
		}
		s.initial[k.KeyID], s.trusted[k.KeyID] = key, key
	}
	if len(s.trusted) == 0 {
		b.note("No trusted keys were given: no signature can be accepted.")
	}
	rs, err := loadReceipts(dir, opts.Trust.ServerKey)
	if err != nil {
		return nil, err
	}
	s.receipts, s.serverKey = rs, opts.Trust.ServerKey != nil
	if rs.lines > 0 && !s.serverKey {
		b.r.ReceiptsUnverified = rs.lines
		b.note("receipts.jsonl holds %d receipt(s); without a server key they are unverified.", rs.lines)
	}
	if rs.unusable > 0 {
		b.note("%d line(s) of receipts.jsonl name no event and were ignored.", rs.unusable)
	}
	s.readMeta()
	if n := countLines(filepath.Join(dir, "dead_letters.jsonl")); n > 0 {
		b.note("dead_letters.jsonl lists %d event(s) the server refused: delivery bookkeeping, not integrity data, so not checked.", n)
	}
	return s, nil
}

// readMeta takes the stream id from stream.meta.json when it has one.
func (s *spSeq) readMeta() {
	data, err := os.ReadFile(filepath.Join(s.dir, "stream.meta.json"))
	if err != nil {
		return
	}
	var meta struct {
		StreamID *string `json:"stream_id"`
	}
	if json.Unmarshal(data, &meta) != nil || meta.StreamID == nil {
		s.b.note("stream.meta.json has no readable stream_id; record 0's stream_id is used instead.")
		return
	}
	s.stream, s.streamSet = *meta.StreamID, true
}

func countLines(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	lr, n := newLineReader(f, path), 0
	for {
		line, _, ok, err := lr.next()
		if err != nil || !ok {
			return n
		}
		if len(trimLine(line)) > 0 {
			n++
		}
	}
}

// chainState is chain_state.json, the writer's head.
type chainState struct {
	Seq      *json.Number `json:"seq"`
	PrevHash *string      `json:"prev_hash"`
}

func (s *spSeq) checkHead() {
	data, err := os.ReadFile(filepath.Join(s.dir, "chain_state.json"))
	if errors.Is(err, fs.ErrNotExist) {
		s.b.note("No chain_state.json: nothing in the directory records how many records there should be.")
		return
	}
	var st chainState
	if err != nil || json.Unmarshal(data, &st) != nil || st.Seq == nil {
		s.b.note("chain_state.json cannot be read; the head state was not checked.")
		return
	}
	seq, ok := parseU64(st.Seq.String())
	n := uint64(s.i)
	switch {
	case !ok:
		s.b.note("chain_state.json's seq %s is not a count; the head state was not checked.", st.Seq.String())
	case seq > n:
		s.b.bad(s.i, s.dir, 0, true, fmt.Sprintf("chain_state.json says the last seq written is %d, but the WAL holds %d records: records are missing at the end", seq, n))
	case seq == n && n > 0 && (st.PrevHash == nil || !s.lastOK || *st.PrevHash != string(s.lastEntry[:])):
		s.b.bad(s.i-1, s.lastFile, 0, false, "chain_state.json's prev_hash is not the last record's entry hash: the last record was replaced")
	case seq < n:
		s.b.note("chain_state.json is %d record(s) behind the WAL (a crash between the segment write and the state write leaves it one behind).", n-seq)
	}
}
