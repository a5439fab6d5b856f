package layout

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/internal/strictjson"
)

// PrunedFile records where a pruned log starts (docs/FORMAT.md §13.2):
// the entries below it were deleted, and what the entries that remain
// build on.
const PrunedFile = "pruned.json"

// MaxPrunedSize bounds pruned.json.
const MaxPrunedSize = 4 << 20

// ErrBadPruned means pruned.json exists but is not what §13.2 says.
var ErrBadPruned = errors.New("malformed " + PrunedFile)

// Pruned is the content of pruned.json.
type Pruned struct {
	// Below is the seq of the first entry kept: entries 0 … Below-1 are
	// gone. At least 1.
	Below uint64
	// Leaf and Time are the leaf hash and time (Unix ns) of entry Below-1:
	// what entry Below chains to.
	Leaf tlog.Hash
	Time int64
	// Edge is the right edge of the tree of entries 0 … Below-1: the
	// roots of its complete subtrees, largest first.
	Edge []tlog.Hash
	// Record is the seq of the prune record that allowed it.
	Record uint64
	// Rotations are the rotation records among the deleted entries, in
	// seq order, kept so that the chain of keys can still be followed
	// (docs/FORMAT.md §13.2); none when no rotation record was pruned.
	Rotations []format.KeptRotation
}

type prunedJSON struct {
	Below  *uint64  `json:"below"`
	Leaf   *string  `json:"leaf"`
	Time   *string  `json:"time"`
	Edge   []string `json:"edge"`
	Record *uint64  `json:"record"`
	// Rotations is optional: absent when no rotation record was pruned.
	Rotations []keptJSON `json:"rotations"`
}

type keptJSON struct {
	Line  *string  `json:"line"`
	Edge  []string `json:"edge"`
	Proof []string `json:"proof"`
}

// Marshal returns pruned.json's bytes.
func (p *Pruned) Marshal() []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "{\n  \"below\": %d,\n  \"leaf\": %q,\n  \"time\": %q,\n  \"edge\": [", p.Below, hexOf(p.Leaf), format.AppendTime(nil, p.Time))
	for i, h := range p.Edge {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "\n    %q", hexOf(h))
	}
	fmt.Fprintf(&b, "\n  ],\n  \"record\": %d", p.Record)
	if len(p.Rotations) > 0 {
		b.WriteString(",\n  \"rotations\": [")
		for i, k := range p.Rotations {
			if i > 0 {
				b.WriteString(",")
			}
			line, _ := json.Marshal(string(k.Line))
			fmt.Fprintf(&b, "\n    {\n      \"line\": %s,\n      \"edge\": %s,\n      \"proof\": %s\n    }", line, hashList(k.Edge, "      "), hashList(k.Proof, "      "))
		}
		b.WriteString("\n  ]")
	}
	b.WriteString("\n}\n")
	return []byte(b.String())
}

// hashList writes hashes as a JSON array, one a line at indent.
func hashList(hs []tlog.Hash, indent string) string {
	if len(hs) == 0 {
		return "[]"
	}
	var b strings.Builder
	b.WriteString("[")
	for i, h := range hs {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "\n%s  %q", indent, hexOf(h))
	}
	fmt.Fprintf(&b, "\n%s]", indent)
	return b.String()
}

func hexOf(h tlog.Hash) string { return string(format.AppendHex(nil, h[:])) }

// ParsePruned reads pruned.json strictly: exactly the members below,
// leaf, time, edge and record, each once; below at least 1 and at most
// record; hashes of 64 lower-case hex digits, as many in edge as below
// has one bits; time in the entry-line form (§3.1); and, optionally,
// rotations (parseKept).
func ParsePruned(b []byte) (*Pruned, error) {
	var raw prunedJSON
	if err := strictjson.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadPruned, err)
	}
	if raw.Below == nil || raw.Leaf == nil || raw.Time == nil || raw.Edge == nil || raw.Record == nil {
		return nil, fmt.Errorf("%w: want the members below, leaf, time, edge and record", ErrBadPruned)
	}
	p := &Pruned{Below: *raw.Below, Record: *raw.Record}
	if p.Below == 0 || p.Below > format.MaxSeq || p.Record < p.Below || p.Record > format.MaxSeq {
		return nil, fmt.Errorf("%w: below %d, record %d (want 1 <= below <= record)", ErrBadPruned, p.Below, p.Record)
	}
	var ok bool
	if p.Leaf, ok = format.ParseHash([]byte(*raw.Leaf)); !ok {
		return nil, fmt.Errorf("%w: leaf %q is not 64 lower-case hex digits", ErrBadPruned, *raw.Leaf)
	}
	t, err := format.ParseTime([]byte(*raw.Time))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadPruned, err)
	}
	p.Time = t
	if want := strconv.FormatUint(p.Below, 2); len(raw.Edge) != strings.Count(want, "1") {
		return nil, fmt.Errorf("%w: %d edge hashes, a tree of %d entries has %d", ErrBadPruned, len(raw.Edge), p.Below, strings.Count(want, "1"))
	}
	for _, s := range raw.Edge {
		h, ok := format.ParseHash([]byte(s))
		if !ok {
			return nil, fmt.Errorf("%w: edge hash %q is not 64 lower-case hex digits", ErrBadPruned, s)
		}
		p.Edge = append(p.Edge, h)
	}
	if raw.Rotations != nil {
		if err := parseKept(p, raw.Rotations); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// parseKept reads the kept rotation records: at least one when the
// member is there, each with exactly line, edge and proof, lines that
// parse as entry lines of strictly increasing seqs below the prune point.
// What they say is checked by the verifier (format.KeptRotation.Check).
func parseKept(p *Pruned, raw []keptJSON) error {
	if len(raw) == 0 {
		return fmt.Errorf("%w: rotations is empty (a writer leaves it out when no rotation record was pruned)", ErrBadPruned)
	}
	for i, r := range raw {
		if r.Line == nil || r.Edge == nil || r.Proof == nil {
			return fmt.Errorf("%w: rotation %d: want the members line, edge and proof", ErrBadPruned, i+1)
		}
		k := format.KeptRotation{Line: []byte(*r.Line)}
		ln, err := format.ParseLine(k.Line)
		if err != nil {
			return fmt.Errorf("%w: rotation %d: its line: %v", ErrBadPruned, i+1, err)
		}
		if ln.Seq >= p.Below || i > 0 && ln.Seq <= lastSeq(p.Rotations) {
			return fmt.Errorf("%w: rotation %d is entry %d: want seqs below %d, in increasing order", ErrBadPruned, i+1, ln.Seq, p.Below)
		}
		for _, list := range []struct {
			in  []string
			out *[]tlog.Hash
		}{{r.Edge, &k.Edge}, {r.Proof, &k.Proof}} {
			if len(list.in) > 64 {
				return fmt.Errorf("%w: rotation %d: more than 64 hashes", ErrBadPruned, i+1)
			}
			for _, s := range list.in {
				h, ok := format.ParseHash([]byte(s))
				if !ok {
					return fmt.Errorf("%w: rotation %d: hash %q is not 64 lower-case hex digits", ErrBadPruned, i+1, s)
				}
				*list.out = append(*list.out, h)
			}
		}
		p.Rotations = append(p.Rotations, k)
	}
	return nil
}

func lastSeq(ks []format.KeptRotation) uint64 {
	ln, _ := format.ParseLine(ks[len(ks)-1].Line)
	return ln.Seq
}

// ReadPruned reads DIR/pruned.json: nil, nil when the log was never
// pruned. A file that is not a regular file, too large or malformed is an
// error (wrapping ErrBadPruned when malformed).
func ReadPruned(dir string) (*Pruned, error) {
	b, err := ReadRegular(filepath.Join(dir, PrunedFile), MaxPrunedSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return ParsePruned(b)
}
