// Package layout names the files of a sealog log directory and reads the
// parts of it that every reader needs: the metadata file and the list of
// segments. It is shared by the file store, which writes the directory, and
// the verifier, which must read it without trusting or importing the writer.
// docs/FORMAT.md describes the layout; this package is that description in
// code.
//
//	DIR/
//	  sealog.json                  metadata: format, origin, the log's verifier key
//	  segments/<20-digit seq>.jsonl      entries, one JSON line each
//	  segments/<20-digit seq>.jsonl.zst  a sealed segment, zstd-compressed
//	  segments/<20-digit seq>.zidx       its frame index (optional, for random reads)
//	  checkpoint                   the latest signed checkpoint (C2SP signed note)
//	  hashes                       the tree's stored hashes (tlog order, 32 bytes each)
//	  index                        seq -> byte offset in its segment (8 bytes each)
//	  lock                         held (flock) by the one writer
//	  torn/                        what crash recovery cut off, kept for inspection
package layout

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// File and directory names inside a log directory.
const (
	MetadataFile   = "sealog.json"
	SegmentsDir    = "segments"
	CheckpointFile = "checkpoint"
	HashesFile     = "hashes"
	IndexFile      = "index"
	LockFile       = "lock"
	TornDir        = "torn"
)

// FormatName is the value of Metadata.Format for this version.
const FormatName = "sealog/v1"

// Metadata is the content of sealog.json, written once when a log is
// created. Key is the log's note verifier key; a verifier that is given
// no key from elsewhere uses it, and says that the result then only holds
// relative to this key.
type Metadata struct {
	Format  string    `json:"format"`
	Origin  string    `json:"origin"`
	Key     string    `json:"key"`
	Created time.Time `json:"created"`
}

// ErrNotLog means a directory is not a sealog log (it has no sealog.json).
var ErrNotLog = errors.New("not a sealog log")

// ReadMetadata reads and checks DIR/sealog.json.
func ReadMetadata(dir string) (Metadata, error) {
	var m Metadata
	b, err := os.ReadFile(filepath.Join(dir, MetadataFile))
	if errors.Is(err, fs.ErrNotExist) {
		if _, serr := os.Stat(dir); serr != nil {
			return m, serr
		}
		return m, fmt.Errorf("%s: %w (no %s)", dir, ErrNotLog, MetadataFile)
	}
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%s: malformed %s: %v", dir, MetadataFile, err)
	}
	if m.Format != FormatName {
		return m, fmt.Errorf("%s: format %q, this sealog reads %q", dir, m.Format, FormatName)
	}
	if m.Origin == "" || m.Key == "" {
		return m, fmt.Errorf("%s: %s has no origin or key", dir, MetadataFile)
	}
	return m, nil
}

// Segment is one segment file.
type Segment struct {
	First      uint64 // seq of its first entry, from the file name
	Path       string
	Compressed bool
}

const segDigits = 20

// SegmentName returns the file name of the segment whose first entry is
// first.
func SegmentName(first uint64, compressed bool) string {
	s := fmt.Sprintf("%0*d.jsonl", segDigits, first)
	if compressed {
		s += ".zst"
	}
	return s
}

// FrameIndexName returns the name of a compressed segment's frame index.
func FrameIndexName(first uint64) string { return fmt.Sprintf("%0*d.zidx", segDigits, first) }

// ParseSegmentName parses a segment file name.
func ParseSegmentName(name string) (first uint64, compressed, ok bool) {
	base, compressed := strings.CutSuffix(name, ".jsonl.zst")
	if !compressed {
		var isSeg bool
		if base, isSeg = strings.CutSuffix(name, ".jsonl"); !isSeg {
			return 0, false, false
		}
	}
	if len(base) != segDigits {
		return 0, false, false
	}
	for _, c := range base {
		if c < '0' || c > '9' {
			return 0, false, false
		}
	}
	first, err := strconv.ParseUint(base, 10, 64)
	return first, compressed, err == nil
}

// Segments lists the segment files of the log at dir in order. When both
// the plain and the compressed file of one segment exist (compression was
// interrupted), the plain one is listed and the compressed one reported in
// dups. Files in segments/ that are not segments are ignored.
func Segments(dir string) (segs []Segment, dups []string, err error) {
	sd := filepath.Join(dir, SegmentsDir)
	ents, err := os.ReadDir(sd)
	if err != nil {
		return nil, nil, err
	}
	byFirst := map[uint64]int{}
	for _, e := range ents {
		first, comp, ok := ParseSegmentName(e.Name())
		if !ok || !e.Type().IsRegular() {
			continue
		}
		s := Segment{First: first, Path: filepath.Join(sd, e.Name()), Compressed: comp}
		if i, seen := byFirst[first]; seen {
			if segs[i].Compressed {
				dups = append(dups, segs[i].Path)
				segs[i] = s
			} else {
				dups = append(dups, s.Path)
			}
			continue
		}
		byFirst[first] = len(segs)
		segs = append(segs, s)
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i].First < segs[j].First })
	return segs, dups, nil
}
