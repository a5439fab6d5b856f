package witness

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/checkpoint"
)

// MaxProofLines is the most consistency proof lines a request may carry
// (the spec's limit).
const MaxProofLines = 63

// MaxRequestSize caps an add-checkpoint request body: the old size line,
// 63 proof lines and a signed checkpoint.
const MaxRequestSize = 128 + MaxProofLines*45 + checkpoint.MaxSize

// Request is a parsed add-checkpoint request body.
type Request struct {
	Old        uint64         // the size of the checkpoint the client says the witness cosigned last
	Proof      tlog.TreeProof // from Old to the checkpoint's size
	Checkpoint []byte         // the signed checkpoint note, unverified
}

// ParseRequest parses an add-checkpoint request body exactly as the spec
// has it: "old N" (decimal, no leading zeros), at most 63 lines of one
// base64 hash each, an empty line, then the signed checkpoint. Every line
// ends in a newline. It checks no signature or proof.
func ParseRequest(body []byte) (*Request, error) {
	if len(body) > MaxRequestSize {
		return nil, fmt.Errorf("request larger than %d bytes", MaxRequestSize)
	}
	line, rest, ok := bytes.Cut(body, []byte("\n"))
	if !ok {
		return nil, errors.New("no old size line")
	}
	num, ok := bytes.CutPrefix(line, []byte("old "))
	if !ok {
		return nil, fmt.Errorf("first line %q: want \"old <size>\"", trim(line))
	}
	old, err := strconv.ParseUint(string(num), 10, 64)
	if err != nil || strconv.FormatUint(old, 10) != string(num) {
		return nil, fmt.Errorf("old size %q: want a decimal number without leading zeros", trim(num))
	}
	r := &Request{Old: old}
	for {
		line, rest, ok = bytes.Cut(rest, []byte("\n"))
		if !ok {
			return nil, errors.New("no empty line before the checkpoint")
		}
		if len(line) == 0 {
			break
		}
		if len(r.Proof) == MaxProofLines {
			return nil, fmt.Errorf("more than %d consistency proof lines", MaxProofLines)
		}
		var h tlog.Hash
		raw, err := base64.StdEncoding.Strict().DecodeString(string(line))
		if err != nil || len(raw) != tlog.HashSize {
			return nil, fmt.Errorf("consistency proof line %d %q: not the base64 of a 32-byte hash", len(r.Proof)+1, trim(line))
		}
		copy(h[:], raw)
		r.Proof = append(r.Proof, h)
	}
	if len(rest) == 0 {
		return nil, errors.New("no checkpoint after the empty line")
	}
	r.Checkpoint = rest
	return r, nil
}

// Marshal encodes r as a request body.
func (r *Request) Marshal() []byte {
	var b bytes.Buffer
	b.WriteString("old ")
	b.WriteString(strconv.FormatUint(r.Old, 10))
	b.WriteByte('\n')
	for _, h := range r.Proof {
		b.WriteString(base64.StdEncoding.EncodeToString(h[:]))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.Write(r.Checkpoint)
	return b.Bytes()
}

// trim shortens untrusted bytes for an error message.
func trim(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
