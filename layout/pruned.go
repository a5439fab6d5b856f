package layout

import (
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
const MaxPrunedSize = 64 << 10

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
}

type prunedJSON struct {
	Below  *uint64  `json:"below"`
	Leaf   *string  `json:"leaf"`
	Time   *string  `json:"time"`
	Edge   []string `json:"edge"`
	Record *uint64  `json:"record"`
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
	fmt.Fprintf(&b, "\n  ],\n  \"record\": %d\n}\n", p.Record)
	return []byte(b.String())
}

func hexOf(h tlog.Hash) string { return string(format.AppendHex(nil, h[:])) }

// ParsePruned reads pruned.json strictly: exactly the members below,
// leaf, time, edge and record, each once; below at least 1 and at most
// record; hashes of 64 lower-case hex digits, as many in edge as below
// has one bits; time in the entry-line form (§3.1).
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
	return p, nil
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
