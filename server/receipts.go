package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/bundle"
	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/store"
)

// Receipt is one receipt as POST /v1/entries returns it: verify.Receipt's
// members (seq, time, leaf_hash, checkpoint, proof), which
// verify.VerifyReceipt checks, plus the entry's stored line, from which a
// client rebuilds the leaf hash and checks that the entry holds the event
// it sent.
type Receipt struct {
	Seq        uint64           `json:"seq"`
	Time       time.Time        `json:"time"`
	LeafHash   tlog.Hash        `json:"leaf_hash"`
	Checkpoint string           `json:"checkpoint"`
	Proof      tlog.RecordProof `json:"proof"`
	Line       string           `json:"line"`
}

// AppendResponse is the JSON body of a successful POST /v1/entries.
type AppendResponse struct {
	Receipts []Receipt `json:"receipts"`
	// Consistency, present when the request's Sealog-Consistency-From
	// header named a size, proves that the tree of that size and the tree
	// of the receipts' checkpoint are one a prefix of the other.
	Consistency *ConsistencyProof `json:"consistency,omitempty"`
}

// ConsistencyProof proves that the tree of Old entries is a prefix of the
// tree of New entries (RFC 6962 consistency proof).
type ConsistencyProof struct {
	Old   uint64         `json:"old_size"`
	New   uint64         `json:"new_size"`
	Proof tlog.TreeProof `json:"proof"`
}

// batch is a run of committed entries [first, first+n) and the
// checkpoint of the batch that committed them.
type batch struct {
	first, n uint64
	ckNote   []byte
	ck       checkpoint.Checkpoint
	leaves   []tlog.Hash // the leaf hashes the log returned; nil when replayed
}

// receipts builds the receipts of b's entries: their stored lines (each checked to hash to its leaf) and
// inclusion proofs in b's checkpoint (each checked against its root).
func (s *Server) receipts(ctx context.Context, b batch) ([]Receipt, error) {
	lines, err := s.lines.get(ctx, s.st, b.first, b.n)
	if err != nil {
		return nil, fmt.Errorf("reading the entries back: %w", err)
	}
	note := string(b.ckNote)
	rs := make([]Receipt, b.n)
	proofs, err := rangeProofs(int64(b.ck.Size), int64(b.first), int64(b.n), store.HashReader(ctx, s.st))
	if err != nil {
		return nil, fmt.Errorf("inclusion proofs: %w", err)
	}
	for i := range rs {
		seq := b.first + uint64(i)
		l, err := format.ParseLine([]byte(lines[i]))
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", seq, err)
		}
		h := l.Header()
		leaf := h.LeafHash()
		if l.Seq != seq || (b.leaves != nil && leaf != b.leaves[i]) {
			return nil, fmt.Errorf("entry %d: its stored line does not hash to its leaf", seq)
		}
		// The client checks every proof; the server checks the first and
		// the last, which cover the stored hashes of the right edge.
		if i == 0 || i == len(rs)-1 {
			if err := tlog.CheckRecord(proofs[i], int64(b.ck.Size), b.ck.Root, int64(seq), leaf); err != nil {
				return nil, fmt.Errorf("entry %d: the stored tree does not match the signed checkpoint: %w", seq, err)
			}
		}
		rs[i] = Receipt{Seq: seq, Time: time.Unix(0, l.Time).UTC(), LeafHash: leaf, Checkpoint: note, Proof: proofs[i], Line: lines[i]}
	}
	return rs, nil
}

// receiptsSize is about the size of rs in JSON, to allocate it once.
func receiptsSize(rs []Receipt) int {
	n := 64
	for i := range rs {
		n += 160 + len(rs[i].Line)*5/4 + len(rs[i].Checkpoint)*9/8 + (base64Len+3)*len(rs[i].Proof)
	}
	return n
}

// appendReceiptsJSON encodes resp as encoding/json would, faster: a
// batch's receipts repeat one checkpoint, quoted once here.
func appendReceiptsJSON(dst []byte, resp *AppendResponse) []byte {
	dst = append(dst, `{"receipts":[`...)
	var ck []byte
	var enc hashEncoder
	for i := range resp.Receipts {
		r := &resp.Receipts[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		if i == 0 || r.Checkpoint != resp.Receipts[i-1].Checkpoint {
			ck, _ = json.Marshal(r.Checkpoint)
		}
		dst = append(dst, `{"seq":`...)
		dst = strconv.AppendUint(dst, r.Seq, 10)
		dst = append(dst, `,"time":"`...)
		dst = r.Time.AppendFormat(dst, time.RFC3339Nano)
		dst = append(dst, `","leaf_hash":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, r.LeafHash[:])
		dst = append(dst, `","checkpoint":`...)
		dst = append(dst, ck...)
		dst = append(dst, `,"proof":`...)
		dst = enc.appendHashes(dst, r.Proof)
		dst = append(dst, `,"line":`...)
		dst = appendJSONString(dst, r.Line)
		dst = append(dst, '}')
	}
	dst = append(dst, ']')
	if c := resp.Consistency; c != nil {
		dst = append(dst, `,"consistency":{"old_size":`...)
		dst = strconv.AppendUint(dst, c.Old, 10)
		dst = append(dst, `,"new_size":`...)
		dst = strconv.AppendUint(dst, c.New, 10)
		dst = append(dst, `,"proof":`...)
		dst = enc.appendHashes(dst, c.Proof)
		dst = append(dst, '}')
	}
	return append(dst, "}\n"...)
}

// hashEncoder appends base64 hashes as JSON strings.
type hashEncoder struct{}

const base64Len = (tlog.HashSize + 2) / 3 * 4

func (hashEncoder) appendHashes(dst []byte, hs []tlog.Hash) []byte {
	dst = append(dst, '[')
	for i := range hs {
		if i > 0 {
			dst = append(dst, ',')
		}
		var b [base64Len + 2]byte
		b[0], b[base64Len+1] = '"', '"'
		base64.StdEncoding.Encode(b[1:], hs[i][:])
		dst = append(dst, b[:]...)
	}
	return append(dst, ']')
}

// appendJSONString appends s, valid UTF-8, as a JSON string, escaping
// only what JSON requires.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendTlogProofs encodes receipts as C2SP tlog-proofs
// (https://c2sp.org/tlog-proof), each with the entry's line as its extra
// data; several are separated by an empty line.
func appendTlogProofs(dst []byte, rs []Receipt) []byte {
	var b bytes.Buffer
	for i, r := range rs {
		if i > 0 {
			b.WriteByte('\n')
		}
		p := bundle.InclusionProof{Line: []byte(r.Line), Index: r.Seq, Proof: r.Proof, Checkpoint: []byte(r.Checkpoint)}
		b.Write(p.Marshal())
	}
	return append(dst, b.Bytes()...)
}
