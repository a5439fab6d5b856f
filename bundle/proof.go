package bundle

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/checkpoint"
)

// Headers of the two proof files.
const (
	// InclusionHeader starts a C2SP tlog-proof (https://c2sp.org/tlog-proof).
	InclusionHeader = "c2sp.org/tlog-proof@v1"
	// ConsistencyHeader starts a sealog consistency proof.
	ConsistencyHeader = "sealog/consistency-proof@v1"
)

// InclusionProof is a C2SP tlog-proof for one entry: its "extra" data is
// the entry's stored line, from which the leaf hash is rebuilt.
type InclusionProof struct {
	Line       []byte // the entry's stored line, without its newline
	Index      uint64
	Proof      tlog.RecordProof
	Checkpoint []byte // the signed checkpoint, verbatim
}

// Marshal encodes p in the tlog-proof text form.
func (p *InclusionProof) Marshal() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\nextra %s\nindex %d\n", InclusionHeader, base64.StdEncoding.EncodeToString(p.Line), p.Index)
	for _, h := range p.Proof {
		fmt.Fprintf(&b, "%s\n", h)
	}
	b.WriteString("\n")
	b.Write(p.Checkpoint)
	return b.Bytes()
}

// ParseInclusionProof decodes a tlog-proof. A proof without extra data
// has no line and cannot be checked against an entry.
func ParseInclusionProof(data []byte) (*InclusionProof, error) {
	head, ck, ok := bytes.Cut(data, []byte("\n\n"))
	if !ok {
		return nil, errors.New("malformed tlog-proof: no empty line before the checkpoint")
	}
	lines := strings.Split(string(head), "\n")
	if lines[0] != InclusionHeader {
		return nil, fmt.Errorf("not a tlog-proof: the first line is not %q", InclusionHeader)
	}
	lines = lines[1:]
	p := &InclusionProof{Checkpoint: ck}
	if len(lines) > 0 && strings.HasPrefix(lines[0], "extra ") {
		b, err := base64.StdEncoding.Strict().DecodeString(lines[0][len("extra "):])
		if err != nil {
			return nil, fmt.Errorf("malformed tlog-proof: extra: %v", err)
		}
		p.Line, lines = b, lines[1:]
	}
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "index ") {
		return nil, errors.New("malformed tlog-proof: no index line")
	}
	idx, err := parseDecimal(lines[0][len("index "):])
	if err != nil {
		return nil, fmt.Errorf("malformed tlog-proof: index: %v", err)
	}
	p.Index = idx
	if p.Proof, err = parseHashes(lines[1:]); err != nil {
		return nil, fmt.Errorf("malformed tlog-proof: %v", err)
	}
	return p, nil
}

// Verify checks p with the verifier key vkey: the checkpoint's signature,
// the line's canonical form and seq, and the inclusion proof. It returns
// the decoded entry.
func (p *InclusionProof) Verify(vkey string) (*Result, error) {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("malformed verifier key: %v", err)
	}
	if p.Line == nil {
		return nil, errors.New("the proof carries no entry line (its extra data), so no leaf hash can be rebuilt")
	}
	b := &Bundle{Version: Version, Origin: v.Name(), Key: vkey, Checkpoint: string(p.Checkpoint),
		Entries: []Entry{{Seq: p.Index, Line: string(p.Line), Proof: hashStrings(p.Proof)}}}
	return b.Verify(vkey), nil
}

// ConsistencyProof proves that the tree of one signed checkpoint is a
// prefix of the tree of a later one: nothing the older one covers was
// changed or removed.
type ConsistencyProof struct {
	Old, New []byte // signed checkpoints, verbatim
	Proof    tlog.TreeProof
}

// Marshal encodes p in the text form of docs/BUNDLE.md:
//
//	sealog/consistency-proof@v1
//	old <size>
//	new <size>
//	<proof hashes, base64, one a line>
//	<empty line>
//	<old signed checkpoint>
//	<empty line>
//	<new signed checkpoint>
func (p *ConsistencyProof) Marshal() []byte {
	var b bytes.Buffer
	oc, _ := checkpoint.ParseUnverified(p.Old)
	nc, _ := checkpoint.ParseUnverified(p.New)
	fmt.Fprintf(&b, "%s\nold %d\nnew %d\n", ConsistencyHeader, oc.Size, nc.Size)
	for _, h := range p.Proof {
		fmt.Fprintf(&b, "%s\n", h)
	}
	b.WriteString("\n")
	b.Write(p.Old)
	b.WriteString("\n")
	b.Write(p.New)
	return b.Bytes()
}

// ParseConsistencyProof decodes a consistency proof's text form.
func ParseConsistencyProof(data []byte) (*ConsistencyProof, error) {
	head, rest, ok := bytes.Cut(data, []byte("\n\n"))
	if !ok {
		return nil, errors.New("malformed consistency proof: no empty line before the checkpoints")
	}
	lines := strings.Split(string(head), "\n")
	if lines[0] != ConsistencyHeader {
		return nil, fmt.Errorf("not a consistency proof: the first line is not %q", ConsistencyHeader)
	}
	if len(lines) < 3 || !strings.HasPrefix(lines[1], "old ") || !strings.HasPrefix(lines[2], "new ") {
		return nil, errors.New("malformed consistency proof: expected 'old N' and 'new N' lines")
	}
	oldSize, err1 := parseDecimal(lines[1][4:])
	newSize, err2 := parseDecimal(lines[2][4:])
	if err1 != nil || err2 != nil {
		return nil, errors.New("malformed consistency proof: bad size")
	}
	p := &ConsistencyProof{}
	var err error
	if p.Proof, err = parseHashes(lines[3:]); err != nil {
		return nil, fmt.Errorf("malformed consistency proof: %v", err)
	}
	// The old note: text lines, an empty line, signature lines; then an
	// empty line and the new note.
	ls := strings.SplitAfter(string(rest), "\n")
	phase, n := 0, 0
	for _, l := range ls {
		if phase == 2 {
			break
		}
		n += len(l)
		if l == "\n" {
			phase++
		}
	}
	if phase != 2 {
		return nil, errors.New("malformed consistency proof: expected two signed checkpoints separated by an empty line")
	}
	p.Old, p.New = []byte(rest[:n-1]), []byte(rest[n:])
	oc, err1 := checkpoint.ParseUnverified(p.Old)
	nc, err2 := checkpoint.ParseUnverified(p.New)
	switch {
	case err1 != nil:
		return nil, fmt.Errorf("malformed consistency proof: old checkpoint: %v", err1)
	case err2 != nil:
		return nil, fmt.Errorf("malformed consistency proof: new checkpoint: %v", err2)
	case oc.Size != oldSize || nc.Size != newSize:
		return nil, errors.New("malformed consistency proof: the 'old' and 'new' sizes differ from the checkpoints'")
	}
	return p, nil
}

// Verify checks both checkpoints' signatures with vkey and the proof that
// the old tree is a prefix of the new one. It returns the two checkpoints.
func (p *ConsistencyProof) Verify(vkey string) (oldCk, newCk checkpoint.Checkpoint, err error) {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return oldCk, newCk, fmt.Errorf("malformed verifier key: %v", err)
	}
	vs := note.VerifierList(v)
	if oldCk, _, err = checkpoint.Open(p.Old, vs, v.Name()); err != nil {
		return oldCk, newCk, fmt.Errorf("the old checkpoint does not verify: %v", err)
	}
	if newCk, _, err = checkpoint.Open(p.New, vs, v.Name()); err != nil {
		return oldCk, newCk, fmt.Errorf("the new checkpoint does not verify: %v", err)
	}
	if oldCk.Size > newCk.Size {
		return oldCk, newCk, fmt.Errorf("the old checkpoint (size %d) is larger than the new one (size %d)", oldCk.Size, newCk.Size)
	}
	if err := tlog.CheckTree(p.Proof, int64(newCk.Size), newCk.Root, int64(oldCk.Size), oldCk.Root); err != nil {
		return oldCk, newCk, fmt.Errorf("the tree of size %d is not a prefix of the tree of size %d: the log was rewritten (a fork), or the proof is wrong", oldCk.Size, newCk.Size)
	}
	return oldCk, newCk, nil
}

func parseDecimal(s string) (uint64, error) {
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return 0, fmt.Errorf("%q is not a canonical decimal", s)
	}
	return strconv.ParseUint(s, 10, 63)
}

func parseHashes(lines []string) ([]tlog.Hash, error) {
	var hs []tlog.Hash
	for i, l := range lines {
		if len(hs) >= 64 {
			return nil, errors.New("too many proof hashes")
		}
		b, err := base64.StdEncoding.Strict().DecodeString(l)
		if err != nil || len(b) != tlog.HashSize {
			return nil, fmt.Errorf("proof line %d is not a base64 SHA-256 hash", i+1)
		}
		var h tlog.Hash
		copy(h[:], b)
		hs = append(hs, h)
	}
	return hs, nil
}

func hashStrings(hs []tlog.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.String()
	}
	return out
}
