package verify

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/klauspost/compress/zstd"

	"github.com/sealog/sealog/internal/lockfile"
	"github.com/sealog/sealog/layout"
)

// Source is where a verifier reads a log from: the parts a log is made
// of, as untrusted bytes.
type Source interface {
	// Metadata returns the log's origin and its own verifier key.
	Metadata() (origin, key string, err error)
	// Segments lists the segments in order.
	Segments() ([]Segment, error)
	// Checkpoint returns the log's latest checkpoint file, or nil if it
	// has none.
	Checkpoint() ([]byte, error)
	// Live reports whether a writer has the log open.
	Live() bool
	// Warnings returns what the source noticed while listing (for example
	// a segment present twice).
	Warnings() []string
}

// Segment is one segment of a Source.
type Segment struct {
	Name  string
	First uint64 // seq of its first entry, from its name
	Size  int64  // stored size in bytes (compressed size if compressed)
	// Open returns the segment's uncompressed bytes.
	Open func() (io.ReadCloser, error)
}

// Dir returns the Source for the log in a directory, laid out as package
// layout describes.
func Dir(dir string) Source { return &dirSource{dir: dir} }

type dirSource struct {
	dir  string
	warn []string
}

func (d *dirSource) Metadata() (string, string, error) {
	m, err := layout.ReadMetadata(d.dir)
	if err != nil {
		return "", "", err
	}
	return m.Origin, m.Key, nil
}

func (d *dirSource) Segments() ([]Segment, error) {
	segs, dups, err := layout.Segments(d.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: no %s directory: %w", d.dir, layout.SegmentsDir, layout.ErrNotLog)
	}
	if err != nil {
		return nil, err
	}
	for _, p := range dups {
		d.warn = append(d.warn, fmt.Sprintf("%s duplicates a segment (an interrupted compression); the uncompressed copy was verified", filepath.Base(p)))
	}
	out := make([]Segment, len(segs))
	for i, sg := range segs {
		fi, err := os.Stat(sg.Path)
		if err != nil {
			return nil, err
		}
		out[i] = Segment{Name: filepath.Base(sg.Path), First: sg.First, Size: fi.Size(), Open: opener(sg)}
	}
	return out, nil
}

func opener(sg layout.Segment) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) {
		f, err := os.Open(sg.Path)
		if err != nil || !sg.Compressed {
			return f, err
		}
		d, err := zstd.NewReader(f, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<30))
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", sg.Path, err)
		}
		return &zstdFile{d: d, f: f}, nil
	}
}

type zstdFile struct {
	d *zstd.Decoder
	f *os.File
}

func (z *zstdFile) Read(p []byte) (int, error) { return z.d.Read(p) }
func (z *zstdFile) Close() error {
	z.d.Close()
	return z.f.Close()
}

func (d *dirSource) Checkpoint() ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(d.dir, layout.CheckpointFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return b, err
}

func (d *dirSource) Live() bool { return lockfile.Held(filepath.Join(d.dir, layout.LockFile)) }

func (d *dirSource) Warnings() []string { return d.warn }
