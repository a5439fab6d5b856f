package server

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/bundle"
)

// receiptsSize is about the size of rs in JSON, to allocate it once.
func receiptsSize(rs *receiptSet) int {
	n := 64 + 2*len(rs.line(0)) // appendJSONBytes makes room for twice a line
	for i := range rs.len() {
		n += 160 + len(rs.line(i))*5/4 + len(rs.note)*9/8 + (base64Len+3)*rs.tree.depth
	}
	return n
}

// appendReceiptsJSON encodes an AppendResponse of rs (and c, if not nil)
// as encoding/json would (without its escaping of <, > and &), faster:
// the receipts repeat one checkpoint, quoted once here, and their proofs
// come from one table whose hashes are encoded once.
func appendReceiptsJSON(dst []byte, rs *receiptSet, c *ConsistencyProof) []byte {
	dst = append(dst, `{"receipts":[`...)
	ck, _ := json.Marshal(rs.note)
	var enc hashEncoder
	for i := range rs.len() {
		seq := rs.first + uint64(i)
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"seq":`...)
		dst = strconv.AppendUint(dst, seq, 10)
		dst = append(dst, `,"time":"`...)
		dst = time.Unix(0, rs.times[i]).UTC().AppendFormat(dst, time.RFC3339Nano)
		dst = append(dst, `","leaf_hash":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, rs.leaves[i][:])
		dst = append(dst, `","checkpoint":`...)
		dst = append(dst, ck...)
		dst = append(dst, `,"proof":`...)
		dst = rs.tree.appendProofJSON(dst, seq)
		dst = append(dst, `,"line":`...)
		dst = appendJSONBytes(dst, rs.line(i))
		dst = append(dst, '}')
	}
	dst = append(dst, ']')
	if c != nil {
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

// appendJSONBytes appends s, valid UTF-8, as a JSON string, escaping
// only what JSON requires. A stored line has no control character, so
// the common path copies byte by byte into room made once, escaping
// quotes and backslashes, without a call per escape.
func appendJSONBytes(dst []byte, s []byte) []byte {
	n := len(dst)
	dst = slices.Grow(dst, 2*len(s)+2)
	b := dst[n : n+2*len(s)+2]
	j := 0
	b[j] = '"'
	j++
	for _, c := range s {
		if c < 0x20 {
			return appendJSONControl(dst[:n], s)
		}
		if c == '"' || c == '\\' {
			b[j] = '\\'
			j++
		}
		b[j] = c
		j++
	}
	b[j] = '"'
	return dst[:n+j+1]
}

// appendJSONControl is appendJSONBytes for a string with control
// characters.
func appendJSONControl(dst []byte, s []byte) []byte {
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
