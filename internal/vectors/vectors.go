// Package vectors generates the format test vectors in testdata/vectors:
// vectors.json (entries, trees, a checkpoint, lines to reject) and log/, a
// complete log written by the library with a fixed clock, fixed salts and
// a key from a fixed seed. Everything is deterministic, so a change to the
// format or the writer shows up as a diff of the committed files.
package vectors

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/store/file"
	"github.com/sealog/sealog/tree"
)

// Origin is the vectors' log origin.
const Origin = "vectors.example/audit"

// File is vectors.json.
type File struct {
	Comment    string           `json:"comment"`
	Entries    []Entry          `json:"entries"`
	Trees      []Tree           `json:"trees"`
	Checkpoint CheckpointVector `json:"checkpoint"`
	Reject     []Reject         `json:"reject"`
}

// Entry is one entry's inputs and expected encodings.
type Entry struct {
	Name     string          `json:"name"`
	Seq      uint64          `json:"seq"`
	TimeNs   int64           `json:"time_ns"`
	Prev     string          `json:"prev"`
	Salt     string          `json:"salt"`
	Kind     string          `json:"kind"`
	Actor    string          `json:"actor,omitempty"`
	Resource string          `json:"resource,omitempty"`
	Payload  json.RawMessage `json:"payload"`
	Sig      string          `json:"sig,omitempty"` // base64, when the line carries one
	// Expected.
	Event      string `json:"event"`
	BodyHash   string `json:"body_hash"`
	Header     string `json:"header"`
	LeafHash   string `json:"leaf_hash"`
	Line       string `json:"line"`
	ErasedLine string `json:"erased_line"`
}

// Tree is a tree size and its root, over leaves defined in File.Comment.
type Tree struct {
	Size uint64 `json:"size"`
	Root string `json:"root"` // base64
}

// CheckpointVector is a signed checkpoint and its key.
type CheckpointVector struct {
	Key  string `json:"key"`
	Text string `json:"text"`
	Note string `json:"note"`
}

// Reject is a line a reader must refuse, and the member at fault.
type Reject struct {
	Line  string `json:"line"`
	Field string `json:"field"`
	Why   string `json:"why"`
}

// stream is a deterministic byte stream: SHA-256 in counter mode.
type stream struct {
	seed string
	n    uint64
	buf  []byte
}

func (s *stream) Read(p []byte) (int, error) {
	for len(s.buf) < len(p) {
		h := sha256.Sum256(fmt.Appendf(nil, "%s %d", s.seed, s.n))
		s.n++
		s.buf = append(s.buf, h[:]...)
	}
	n := copy(p, s.buf)
	s.buf = s.buf[n:]
	return n, nil
}

// Key returns the vectors' signer and verifier keys, from a fixed seed.
func Key() (skey, vkey string) {
	skey, vkey, err := note.GenerateKey(&stream{seed: "sealog vectors key"}, Origin)
	if err != nil {
		panic(err)
	}
	return skey, vkey
}

// Generate writes vectors.json, log/ and log.pub into dir.
func Generate(dir string) error {
	f, err := build()
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "vectors.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	_, vkey := Key()
	if err := os.WriteFile(filepath.Join(dir, "log.pub"), []byte(vkey+"\n"), 0o644); err != nil {
		return err
	}
	logDir := filepath.Join(dir, "log")
	if err := os.RemoveAll(logDir); err != nil {
		return err
	}
	if err := writeLog(logDir); err != nil {
		return err
	}
	if err := writeRotated(dir); err != nil {
		return err
	}
	return writeRevocation(dir)
}

func build() (*File, error) {
	skey, vkey := Key()
	signer, err := note.NewSigner(skey)
	if err != nil {
		return nil, err
	}
	f := &File{Comment: "sealog format v1 test vectors (docs/FORMAT.md section 11). Tree leaves: leaf i = SHA-256(u64be(i)). Hex is lower-case; roots are base64."}
	rnd := &stream{seed: "sealog vectors salts"}
	t0 := time.Date(2026, 11, 21, 8, 42, 13, 123456789, time.UTC).UnixNano()
	events := []struct {
		name, kind, actor, resource, payload string
		signed                               bool
	}{
		{"first entry", "user.login", "alice@example.com", "app/console", `{"ip":"203.0.113.9","mfa":true}`, false},
		{"no actor or resource, empty payload", "system.start", "", "", `{}`, false},
		{"escapes and non-ASCII", "doc.read", "zoë \"z\" <admin>", "docs/été\u2028x\ttab", `{"path":"C:\\temp\\a.txt","emoji":"🔒","n":-1.5e3}`, false},
		{"last of a batch, signed", "role.grant", "bob@example.org", "role/admin", `{"granted_by":"carol","nested":{"a":[1,2,{"b":null}]}}`, true},
	}
	var edge tree.Edge
	var prev format.Hash
	for i, ev := range events {
		var salt [format.SaltSize]byte
		rnd.Read(salt[:])
		payload, err := format.CompactPayload(nil, []byte(ev.payload))
		if err != nil {
			return nil, err
		}
		event, err := format.AppendEvent(nil, ev.kind, ev.actor, ev.resource, payload)
		if err != nil {
			return nil, err
		}
		ts := t0 + int64(i)*1_000_001
		l := format.Line{Seq: uint64(i), Time: ts, Prev: prev, Salt: salt, Event: event}
		h := l.Header()
		leaf := h.LeafHash()
		edge.Append(leaf, nil)
		if ev.signed {
			text := checkpoint.Checkpoint{Origin: Origin, Size: uint64(i + 1), Root: edge.Root()}.Text()
			if l.Sig, err = checkpoint.SignText(text, signer); err != nil {
				return nil, err
			}
		}
		line := format.AppendLine(nil, &l)
		er := format.Line{Seq: l.Seq, Time: l.Time, Prev: l.Prev, Erased: true, BodyHash: h.BodyHash, Sig: l.Sig}
		enc := h.Encode()
		e := Entry{Name: ev.name, Seq: l.Seq, TimeNs: ts, Prev: hex.EncodeToString(prev[:]), Salt: hex.EncodeToString(salt[:]),
			Kind: ev.kind, Actor: ev.actor, Resource: ev.resource, Payload: json.RawMessage(ev.payload),
			Event: string(event), BodyHash: hex.EncodeToString(h.BodyHash[:]), Header: hex.EncodeToString(enc[:]),
			LeafHash: hex.EncodeToString(leaf[:]), Line: strings.TrimSuffix(string(line), "\n"),
			ErasedLine: strings.TrimSuffix(string(format.AppendLine(nil, &er)), "\n")}
		if l.Sig != nil {
			e.Sig = base64.StdEncoding.EncodeToString(l.Sig)
		}
		f.Entries = append(f.Entries, e)
		prev = leaf
	}

	var te tree.Edge
	sizes := map[uint64]bool{0: true, 1: true, 2: true, 3: true, 4: true, 5: true, 7: true, 8: true, 9: true, 16: true, 17: true, 100: true, 1000: true}
	for i := uint64(0); i <= 1000; i++ {
		if sizes[i] {
			r := te.Root()
			f.Trees = append(f.Trees, Tree{Size: i, Root: base64.StdEncoding.EncodeToString(r[:])})
		}
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], i)
		te.Append(sha256.Sum256(b[:]), nil)
	}

	c := checkpoint.Checkpoint{Origin: Origin, Size: edge.Size(), Root: edge.Root()}
	n, err := checkpoint.Sign(c, signer)
	if err != nil {
		return nil, err
	}
	f.Checkpoint = CheckpointVector{Key: vkey, Text: string(c.Text()), Note: string(n)}

	good := f.Entries[0].Line
	for _, r := range []struct{ from, to, field, why string }{
		{`{"seq":0,`, `{"seq":00,`, "seq", "leading zero"},
		{`{"seq":0,`, `{"seq": 0,`, "seq", "white space"},
		{`{"seq":0,"time"`, `{"time"`, "line", "members out of order"},
		{`.123456789Z`, `.123456789+00:00`, "time", "offset instead of Z"},
		{`.123456789Z`, `.12345678Z`, "time", "eight fraction digits"},
		{`"prev":"0000`, `"prev":"000A`, "prev", "upper-case hex"},
		{`","event":`, `", "event":`, "event", "white space before event"},
		{`"salt":"`, `"salt":"zz`, "salt", "not hex"},
		{`"salt":"`, `"pepper":"`, "line", "unknown member"},
	} {
		if !strings.Contains(good, r.from) {
			return nil, fmt.Errorf("reject vector %q: %q not in the line", r.why, r.from)
		}
		f.Reject = append(f.Reject, Reject{Line: strings.Replace(good, r.from, r.to, 1), Field: r.field, Why: r.why})
	}
	for _, r := range []struct{ suffix, field, why string }{
		{`,"sig":"%%%"}`, "sig", "signature not base64"},
		{`,"sig":"AAAA"}`, "sig", "signature too short for a key hash and a signature"},
		{`,"sig":"AAAAAAAAAAB="}`, "sig", "base64 with stray bits in its last character (not canonical)"},
		{` }`, "event", "white space at the end"},
	} {
		f.Reject = append(f.Reject, Reject{Line: good[:len(good)-1] + r.suffix, Field: r.field, Why: r.why})
	}
	return f, nil
}

// writeLog writes the sample log: 23 entries in batches of 1, 3, 5, 2, 4,
// 1, 6 (so signatures fall at various places) in segments of 2 KiB, the
// first segments compressed, entry 4 erased.
func writeLog(dir string) error {
	skey, _ := Key()
	k, err := sealog.ParseKey(skey)
	if err != nil {
		return err
	}
	t := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time {
		t = t.Add(1_234_567 * time.Nanosecond)
		return t
	}
	opts := sealog.Options{Key: k, File: file.Options{SegmentSize: 2048}, Clock: clock, Rand: &stream{seed: "sealog vectors log salts"}}
	l, err := sealog.Open(dir, opts)
	if err != nil {
		return err
	}
	ctx := context.Background()
	seq := 0
	for _, n := range []int{1, 3, 5, 2, 4, 1, 6} {
		var evs []sealog.Event
		for j := 0; j < n; j++ {
			evs = append(evs, sealog.Event{Kind: []string{"user.login", "doc.read", "doc.update", "role.grant"}[seq%4],
				Actor: fmt.Sprintf("user%d@example.com", seq%3), Resource: fmt.Sprintf("doc/%d", seq),
				Payload: map[string]any{"n": seq, "ip": fmt.Sprintf("198.51.100.%d", seq)}})
			seq++
		}
		if _, err := l.AppendBatch(ctx, evs); err != nil {
			return err
		}
	}
	if _, err := l.Erase(ctx, 4, "vectors: an erased entry"); err != nil {
		return err
	}
	if err := l.Close(); err != nil {
		return err
	}
	// Reopen with compression on, and wait until the sealed segments are
	// compressed.
	opts.File.Compress = true
	if l, err = sealog.Open(dir, opts); err != nil {
		return err
	}
	segs, _, err := layout.Segments(dir)
	if err != nil {
		return err
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		s, _, _ := layout.Segments(dir)
		done := 0
		for _, sg := range s[:len(s)-1] {
			if sg.Compressed {
				done++
			}
		}
		if done == len(segs)-1 {
			break
		}
		if time.Now().After(deadline) {
			l.Close()
			return fmt.Errorf("sealed segments were not compressed in time")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := l.Close(); err != nil {
		return err
	}
	return os.Remove(filepath.Join(dir, layout.LockFile))
}
