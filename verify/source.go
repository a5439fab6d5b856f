package verify

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/klauspost/compress/zstd"

	"github.com/sealog/sealog/layout"
)

// Source is where a verifier reads a log from: the parts a log is made
// of, as untrusted bytes.
type Source interface {
	// Metadata returns the log's origin and its own verifier key. An error
	// wrapping layout.ErrNotLog means the log has no metadata;
	// layout.ErrBadMetadata, that its metadata is malformed.
	Metadata() (origin, key string, err error)
	// Segments lists the segments in order. An error wrapping
	// fs.ErrNotExist means the log has no segments at all (its segments
	// directory is gone).
	Segments() ([]Segment, error)
	// Checkpoint returns the log's latest checkpoint file, or nil if it
	// has none. An error wrapping ErrDamaged is damage to the log (a file
	// that is not a regular file, or too large), not a failure to read.
	Checkpoint() ([]byte, error)
	// Live reports whether a writer has the log open.
	Live() bool
	// Warnings returns what the source noticed while listing (for example
	// a segment present twice).
	Warnings() []string
	// Damage returns what the source found wrong with the log while
	// listing it: each is a problem (for example an entry named like a
	// segment that is not a regular file).
	Damage() []string
}

// ErrDamaged marks an error of a Source that is damage to the log, to be
// reported as such, rather than a failure to read it.
var ErrDamaged = errors.New("damaged")

// damageError is damage to the log, described.
type damageError struct{ msg string }

func (e *damageError) Error() string        { return e.msg }
func (e *damageError) Is(target error) bool { return target == ErrDamaged }

func damaged(format string, args ...any) error { return &damageError{fmt.Sprintf(format, args...)} }

// Segment is one segment of a Source.
type Segment struct {
	Name       string
	First      uint64 // seq of its first entry, from its name
	Size       int64  // stored size in bytes (compressed size if compressed)
	Compressed bool
	// Atomic says the segment comes from a store that commits whole
	// batches (a database): it holds no preallocated space and no crash
	// remnant, so NUL bytes or entries no signature covers at its end are
	// tampering.
	Atomic bool
	// Open returns the segment's uncompressed bytes. Errors wrapping
	// ErrDamaged while opening or reading are damage to the segment.
	Open func() (io.ReadCloser, error)
}

// Dir returns the Source for the log in a directory, laid out as package
// layout describes. It opens only regular files, never follows a symlink
// inside the directory, never blocks on a FIFO, and reads the small files
// only up to their bounds (layout.OpenRegular).
func Dir(dir string) Source { return &dirSource{dir: dir} }

type dirSource struct {
	dir    string
	warn   []string
	damage []string
}

func (d *dirSource) Metadata() (string, string, error) {
	m, err := layout.ReadMetadata(d.dir)
	if err != nil {
		return "", "", err
	}
	return m.Origin, m.Key, nil
}

func (d *dirSource) Segments() ([]Segment, error) {
	l, err := layout.List(d.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: no %s directory: %w", d.dir, layout.SegmentsDir, err)
	}
	if err != nil {
		return nil, err
	}
	d.warn, d.damage = nil, nil
	for _, p := range l.Dups {
		d.warn = append(d.warn, fmt.Sprintf("%s duplicates a segment (an interrupted compression); the uncompressed copy was verified", filepath.Base(p)))
	}
	for _, b := range l.Bad {
		d.damage = append(d.damage, fmt.Sprintf("%s/%s is named like a segment but is not one: %s", layout.SegmentsDir, b.Name, b.Reason))
	}
	out := make([]Segment, len(l.Segments))
	for i, sg := range l.Segments {
		var size int64
		if fi, err := os.Lstat(sg.Path); err == nil {
			size = fi.Size()
		}
		out[i] = Segment{Name: filepath.Base(sg.Path), First: sg.First, Size: size, Compressed: sg.Compressed, Open: opener(sg)}
	}
	return out, nil
}

func opener(sg layout.Segment) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) {
		f, err := layout.OpenRegular(sg.Path)
		if err != nil {
			if errors.Is(err, layout.ErrNotRegular) {
				return nil, damaged("%v", err)
			}
			return nil, err
		}
		if !sg.Compressed {
			return f, nil
		}
		fr := &fileReader{f: f}
		d, err := zstd.NewReader(fr, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<30))
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", sg.Path, err)
		}
		return &zstdFile{d: d, fr: fr}, nil
	}
}

// fileReader remembers the errors of the file under a decoder, so that an
// error of the decoder alone is known to be damage to the data.
type fileReader struct {
	f   *os.File
	err error
}

func (r *fileReader) Read(p []byte) (int, error) {
	n, err := r.f.Read(p)
	if err != nil && err != io.EOF {
		r.err = err
	}
	return n, err
}

type zstdFile struct {
	d  *zstd.Decoder
	fr *fileReader
}

func (z *zstdFile) Read(p []byte) (int, error) {
	n, err := z.d.Read(p)
	if err != nil && err != io.EOF && z.fr.err == nil {
		err = damaged("it does not decompress: %v", err)
	}
	return n, err
}

func (z *zstdFile) Close() error {
	z.d.Close()
	return z.fr.f.Close()
}

// damage describes err if it is damage to the log, or returns "".
func damage(err error) string {
	var d *damageError
	if errors.As(err, &d) {
		return d.msg
	}
	if err != nil && errors.Is(err, ErrDamaged) {
		return err.Error()
	}
	return ""
}

func (d *dirSource) Checkpoint() ([]byte, error) {
	b, err := layout.ReadRegular(filepath.Join(d.dir, layout.CheckpointFile), layout.MaxCheckpointSize)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case errors.Is(err, layout.ErrNotRegular) || errors.Is(err, layout.ErrTooLarge):
		return nil, damaged("the checkpoint file: %v", err)
	}
	return b, err
}

func (d *dirSource) Live() bool { return lockHeld(filepath.Join(d.dir, layout.LockFile)) }

func (d *dirSource) Warnings() []string { return d.warn }

func (d *dirSource) Damage() []string { return d.damage }
