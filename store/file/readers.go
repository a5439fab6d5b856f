//go:build unix

package file

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"

	"github.com/klauspost/compress/zstd"

	"github.com/sealog/sealog/store"
)

// readerCache keeps segment files open for reads. Plain segments are read
// with ReadAt, which is safe for concurrent use; a compressed one is
// decoded from the frame that holds the wanted offset.
type readerCache struct {
	mu    sync.Mutex
	files map[string]*os.File // plain segments by path
}

// maxOpenSegments bounds the file descriptors the cache holds.
const maxOpenSegments = 16

// open returns a reader of segment sg's uncompressed stream from offset off.
func (c *readerCache) open(sg segment, off int64) (io.ReadCloser, error) {
	if sg.compressed {
		return openCompressedAt(sg.path, off)
	}
	f, err := c.file(sg.path)
	if err != nil {
		return nil, err
	}
	return io.NopCloser(io.NewSectionReader(f, off, 1<<62)), nil
}

func (c *readerCache) file(path string) (*os.File, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f, ok := c.files[path]; ok {
		return f, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if c.files == nil {
		c.files = map[string]*os.File{}
	}
	if len(c.files) >= maxOpenSegments {
		// Forget any one handle without closing it: a read in flight may
		// still use it, and the runtime closes it once it is unreachable.
		for p := range c.files {
			delete(c.files, p)
			break
		}
	}
	c.files[path] = f
	return f, nil
}

// drop forgets the cached handle of a segment that was replaced (reads in
// flight keep it alive; the runtime closes it when they are done).
func (c *readerCache) drop(path string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.files, path)
}

func (c *readerCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for p, f := range c.files {
		f.Close()
		delete(c.files, p)
	}
}

// openSegment returns a reader of a whole segment's uncompressed stream.
func openSegment(sg segment) (io.ReadCloser, error) {
	if sg.compressed {
		return openCompressedAt(sg.path, 0)
	}
	return os.Open(sg.path)
}

var decoders = sync.Pool{New: func() any {
	d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<30))
	if err != nil {
		panic(err)
	}
	return d
}}

// zstdReader is a pooled decoder over a file. An error of the decoder
// that is not one of the file's is damage: it wraps store.ErrCorrupt.
type zstdReader struct {
	f  *os.File
	fr *fileErrs
	d  *zstd.Decoder
}

func (z *zstdReader) Read(p []byte) (int, error) {
	n, err := z.d.Read(p)
	if err != nil && err != io.EOF && z.fr.err == nil {
		err = fmt.Errorf("%w: %s does not decompress: %v", store.ErrCorrupt, z.f.Name(), err)
	}
	return n, err
}

// fileErrs remembers the errors of the reads under a decoder.
type fileErrs struct {
	r   io.Reader
	err error
}

func (f *fileErrs) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err != nil && err != io.EOF {
		f.err = err
	}
	return n, err
}

func (z *zstdReader) Close() error {
	z.d.Reset(nil)
	decoders.Put(z.d)
	return z.f.Close()
}

// openCompressedAt opens a compressed segment positioned at uncompressed
// offset off, starting from the nearest frame its frame index names (or
// from the beginning without one).
func openCompressedAt(path string, off int64) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	uStart, cStart := frameFor(zidxPath(path), off)
	d := decoders.Get().(*zstd.Decoder)
	fr := &fileErrs{r: io.NewSectionReader(f, cStart, 1<<62)}
	if err := d.Reset(fr); err != nil {
		decoders.Put(d)
		f.Close()
		if fr.err == nil {
			return nil, fmt.Errorf("%w: %s does not decompress: %v", store.ErrCorrupt, path, err)
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	z := &zstdReader{f: f, fr: fr, d: d}
	if _, err := io.CopyN(io.Discard, z, off-uStart); err != nil {
		z.Close()
		return nil, fmt.Errorf("%s: seeking to %d: %w", path, off, err)
	}
	return z, nil
}

// frameFor returns the uncompressed and compressed offsets of the frame
// that holds uncompressed offset off. The frame index is a list of
// (uncompressed, compressed) big-endian uint64 pairs, one per frame.
func frameFor(zidx string, off int64) (u, c int64) {
	b, err := os.ReadFile(zidx)
	if err != nil || len(b)%16 != 0 {
		return 0, 0
	}
	n := len(b) / 16
	i := sort.Search(n, func(i int) bool { return int64(binary.BigEndian.Uint64(b[16*i:])) > off }) - 1
	if i < 0 {
		return 0, 0
	}
	return int64(binary.BigEndian.Uint64(b[16*i:])), int64(binary.BigEndian.Uint64(b[16*i+8:]))
}
