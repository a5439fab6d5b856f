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
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sealog/sealog/internal/strictjson"
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
	// WitnessedFile is the newest checkpoint cosigned by a witness
	// policy's quorum, kept by 'sealog serve --policy' (docs/WITNESS.md).
	WitnessedFile = "witnessed"
	// KeysFile lists the verifier keys a log was rotated to, one a line: a
	// convenience for the writer's own checks (docs/FORMAT.md section 1);
	// verifiers ignore it.
	KeysFile = "keys"
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

// ErrBadMetadata means sealog.json exists but is not valid metadata.
var ErrBadMetadata = errors.New("malformed " + MetadataFile)

// ReadMetadata reads and checks DIR/sealog.json strictly (docs/FORMAT.md
// section 2): a regular file of at most MaxMetadataSize bytes holding one
// JSON object with exactly the members format, origin, key and created,
// each once, spelled exactly so. A missing file is ErrNotLog; any other
// content is ErrBadMetadata.
func ReadMetadata(dir string) (Metadata, error) {
	var m Metadata
	b, err := ReadRegular(filepath.Join(dir, MetadataFile), MaxMetadataSize)
	if errors.Is(err, fs.ErrNotExist) {
		if _, serr := os.Stat(dir); serr != nil {
			return m, serr
		}
		return m, fmt.Errorf("%s: %w (no %s)", dir, ErrNotLog, MetadataFile)
	}
	if err != nil {
		return m, fmt.Errorf("%s: %w: %v", dir, ErrBadMetadata, err)
	}
	m, err = ParseMetadata(b)
	if err != nil {
		return m, fmt.Errorf("%s: %w", dir, err)
	}
	return m, nil
}

// ParseMetadata parses the content of sealog.json (see ReadMetadata).
func ParseMetadata(b []byte) (Metadata, error) {
	var raw struct {
		Format  *string `json:"format"`
		Origin  *string `json:"origin"`
		Key     *string `json:"key"`
		Created *string `json:"created"`
	}
	var m Metadata
	if err := strictjson.Unmarshal(b, &raw); err != nil {
		return m, fmt.Errorf("%w: %v", ErrBadMetadata, err)
	}
	switch {
	case raw.Format == nil || raw.Origin == nil || raw.Key == nil || raw.Created == nil:
		return m, fmt.Errorf("%w: want the members format, origin, key and created", ErrBadMetadata)
	case *raw.Format != FormatName:
		return m, fmt.Errorf("%w: format %q, this sealog reads %q", ErrBadMetadata, *raw.Format, FormatName)
	case !ValidOrigin(*raw.Origin):
		return m, fmt.Errorf("%w: origin %q is empty, or holds white space or '+'", ErrBadMetadata, *raw.Origin)
	case *raw.Key == "":
		return m, fmt.Errorf("%w: no key", ErrBadMetadata)
	}
	created, err := ParseCreated(*raw.Created)
	if err != nil {
		return m, fmt.Errorf("%w: %v", ErrBadMetadata, err)
	}
	return Metadata{Format: *raw.Format, Origin: *raw.Origin, Key: *raw.Key, Created: created}, nil
}

// ValidOrigin reports whether s may be a log's origin: the name of its
// key, so non-empty, without white space, '+' or control characters.
func ValidOrigin(s string) bool {
	return s != "" && utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || r == '+' || r < 0x20 || r == 0x7f
	})
}

// ParseCreated parses the created member of sealog.json: an RFC 3339
// date-time, YYYY-MM-DDTHH:MM:SS[.fraction](Z|+hh:mm|-hh:mm), with a real
// calendar date, hours 00-23, minutes and seconds 00-59 (no leap second).
func ParseCreated(s string) (time.Time, error) {
	m := createdRE.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, fmt.Errorf("created %q is not an RFC 3339 date-time", s)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
	if err != nil || n(2) < 1 || n(2) > 12 || n(3) < 1 || n(3) > daysIn(n(1), n(2)) || n(4) > 23 || n(5) > 59 || n(6) > 59 ||
		m[8] != "" && (n(9) > 23 || n(10) > 59) {
		return time.Time{}, fmt.Errorf("created %q is not a valid date-time", s)
	}
	return t, nil
}

var createdRE = regexp.MustCompile(`^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]{1,9})?(?:Z|([+-])([0-9]{2}):([0-9]{2}))$`)

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
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

// Listing is what a segments directory holds.
type Listing struct {
	// Segments are the segments, in order.
	Segments []Segment
	// Dups are compressed copies of segments also present uncompressed
	// (an interrupted compression); the uncompressed one is in Segments.
	Dups []string
	// Bad are the entries whose names have the form of a segment's but
	// that are not segments: not regular files (a symlink, a FIFO, a
	// directory), or numbered beyond 2^64-1. Each is damage.
	Bad []BadSegment
}

// BadSegment is an entry of the segments directory named like a segment
// that is not one.
type BadSegment struct {
	Name   string
	Reason string
}

// segmentNameRE is the form of a segment's name, whatever the number.
var segmentNameRE = regexp.MustCompile(`^[0-9]{20}\.jsonl(\.zst)?$`)

// List lists the segments directory of the log at dir (docs/FORMAT.md
// section 1). It never opens a file: it reads the directory only.
func List(dir string) (Listing, error) {
	var l Listing
	sd := filepath.Join(dir, SegmentsDir)
	if fi, err := os.Lstat(sd); err == nil && !fi.IsDir() {
		return l, fmt.Errorf("%s is %s, not a directory: %w", sd, describeMode(fi.Mode()), fs.ErrNotExist)
	}
	ents, err := os.ReadDir(sd)
	if err != nil {
		return l, err
	}
	byFirst := map[uint64]int{}
	for _, e := range ents {
		if !segmentNameRE.MatchString(e.Name()) {
			continue
		}
		first, comp, ok := ParseSegmentName(e.Name())
		switch {
		case !ok:
			l.Bad = append(l.Bad, BadSegment{e.Name(), "its number is beyond 2^64-1"})
			continue
		case !e.Type().IsRegular():
			l.Bad = append(l.Bad, BadSegment{e.Name(), describeMode(e.Type())})
			continue
		}
		s := Segment{First: first, Path: filepath.Join(sd, e.Name()), Compressed: comp}
		if i, seen := byFirst[first]; seen {
			if l.Segments[i].Compressed {
				l.Dups = append(l.Dups, l.Segments[i].Path)
				l.Segments[i] = s
			} else {
				l.Dups = append(l.Dups, s.Path)
			}
			continue
		}
		byFirst[first] = len(l.Segments)
		l.Segments = append(l.Segments, s)
	}
	sort.Slice(l.Segments, func(i, j int) bool { return l.Segments[i].First < l.Segments[j].First })
	return l, nil
}

// Segments lists the segment files of the log at dir in order (see List).
// When both the plain and the compressed file of one segment exist
// (compression was interrupted), the plain one is listed and the
// compressed one reported in dups. Entries that are not segments are
// left out.
func Segments(dir string) (segs []Segment, dups []string, err error) {
	l, err := List(dir)
	return l.Segments, l.Dups, err
}
