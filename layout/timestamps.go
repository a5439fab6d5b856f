package layout

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
)

// TimestampsDir holds the RFC 3161 timestamp responses the writer
// obtained for its checkpoints (docs/FORMAT.md §12): one file per
// checkpoint, TimestampsDir/<20-digit tree size>.tsr, holding a DER
// TimeStampResp.
const TimestampsDir = "timestamps"

// MaxTimestampFile bounds a timestamp file (a token with its certificate
// chain is a few KiB).
const MaxTimestampFile = 64 << 10

// TimestampName returns the file name, inside TimestampsDir, of the
// timestamp of the checkpoint of tree size size.
func TimestampName(size uint64) string { return fmt.Sprintf("%0*d.tsr", segDigits, size) }

// ParseTimestampName returns the tree size a timestamp file name stands
// for; ok is false unless name is exactly 20 decimal digits (at most
// 2^64-1) and ".tsr".
func ParseTimestampName(name string) (size uint64, ok bool) {
	if len(name) != segDigits+4 || name[segDigits:] != ".tsr" {
		return 0, false
	}
	for _, c := range name[:segDigits] {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(name[:segDigits], 10, 64)
	return n, err == nil
}

// Timestamp is one file of TimestampsDir.
type Timestamp struct {
	Size uint64 // the tree size its name gives
	Path string
}

// Timestamps lists DIR/timestamps in ascending size. A missing directory
// is no timestamps. Files whose names are not timestamp names are
// ignored; entries with such a name that are not regular files are
// returned in damage, described, as is a timestamps that is not a
// directory.
func Timestamps(dir string) (ts []Timestamp, damage []string, err error) {
	tdir := filepath.Join(dir, TimestampsDir)
	fi, err := os.Lstat(tdir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if !fi.IsDir() {
		return nil, []string{fmt.Sprintf("%s is %s, not a directory", TimestampsDir, describeMode(fi.Mode()))}, nil
	}
	ents, err := os.ReadDir(tdir)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range ents {
		size, ok := ParseTimestampName(e.Name())
		if !ok {
			continue
		}
		if !e.Type().IsRegular() {
			damage = append(damage, fmt.Sprintf("%s/%s is %s, not a regular file", TimestampsDir, e.Name(), describeMode(e.Type())))
			continue
		}
		ts = append(ts, Timestamp{Size: size, Path: filepath.Join(tdir, e.Name())})
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].Size < ts[j].Size })
	return ts, damage, nil
}
