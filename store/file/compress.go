//go:build unix

package file

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/klauspost/compress/zstd"

	"github.com/sealog/sealog/internal/durable"
	"github.com/sealog/sealog/layout"
)

// frameSize is the uncompressed size of one zstd frame in a compressed
// segment: a random read decodes at most this much.
const frameSize = 1 << 20

// compressor compresses sealed segments in the background, one at a time.
type compressor struct {
	s    *Store
	mu   sync.Mutex
	todo []uint64
	wake chan struct{}
	quit chan struct{}
	done chan struct{}
}

func startCompressor(s *Store) *compressor {
	c := &compressor{s: s, wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

func (c *compressor) enqueue(first uint64) {
	c.mu.Lock()
	c.todo = append(c.todo, first)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *compressor) stop() {
	close(c.quit)
	<-c.done
}

func (c *compressor) run() {
	defer close(c.done)
	for {
		c.mu.Lock()
		var first uint64
		have := len(c.todo) > 0
		if have {
			first, c.todo = c.todo[0], c.todo[1:]
		}
		c.mu.Unlock()
		if !have {
			select {
			case <-c.wake:
				continue
			case <-c.quit:
				return
			}
		}
		if err := c.s.compressSegment(first, c.quit); err != nil {
			if errors.Is(err, errStopped) {
				return
			}
			c.s.log.Error("compressing a sealed segment failed; it stays uncompressed", "segment", layout.SegmentName(first, false), "error", err)
		}
	}
}

var errStopped = errors.New("stopped")

// compressSegment replaces a sealed plain segment with a zstd-compressed
// copy made of independent frames, plus a frame index. The copy is decoded
// and checked against the original before the original is removed.
func (s *Store) compressSegment(first uint64, quit <-chan struct{}) error {
	s.rewrite.Lock()
	defer s.rewrite.Unlock()
	sd := filepath.Join(s.dir, layout.SegmentsDir)
	plain := filepath.Join(sd, layout.SegmentName(first, false))
	zpath := filepath.Join(sd, layout.SegmentName(first, true))
	in, err := os.Open(plain)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // already compressed
	}
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := durable.Create(zpath, 0o644)
	if err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			out.Abort()
		}
	}()
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBetterCompression), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return err
	}
	defer enc.Close()
	var idx, frame []byte
	var u, c int64
	srcHash := sha256.New()
	lr := newLineReader(in, 0)
	buf := make([]byte, 0, frameSize+64<<10)
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		idx = binary.BigEndian.AppendUint64(idx, uint64(u))
		idx = binary.BigEndian.AppendUint64(idx, uint64(c))
		frame = enc.EncodeAll(buf, frame[:0])
		if _, err := out.Write(frame); err != nil {
			return err
		}
		srcHash.Write(buf)
		u += int64(len(buf))
		c += int64(len(frame))
		buf = buf[:0]
		return nil
	}
	for {
		select {
		case <-quit:
			return errStopped
		default:
		}
		line, _, complete, err := lr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if !complete {
			return fmt.Errorf("%s: sealed segment ends in a partial line", plain)
		}
		// Frames end at line ends, so a read never starts mid-line.
		if len(buf) > 0 && len(buf)+len(line)+1 > frameSize {
			if err := flush(); err != nil {
				return err
			}
		}
		buf = append(append(buf, line...), '\n')
	}
	if err := flush(); err != nil {
		return err
	}
	if err := out.Commit(); err != nil {
		return err
	}
	committed = true
	if err := checkDecodes(zpath, u, srcHash.Sum(nil)); err != nil {
		os.Remove(zpath)
		return fmt.Errorf("%s: the compressed copy does not decode to the original: %w", plain, err)
	}
	if err := durable.WriteFile(zidxPath(zpath), idx, 0o644); err != nil {
		return err
	}
	s.mu.Lock()
	for i := range s.segs {
		if s.segs[i].first == first {
			s.segs[i].path, s.segs[i].compressed = zpath, true
		}
	}
	s.mu.Unlock()
	s.readers.drop(plain)
	if err := os.Remove(plain); err != nil {
		return err
	}
	if err := durable.SyncDir(sd); err != nil {
		return err
	}
	s.log.Info("compressed a sealed segment", "segment", filepath.Base(zpath), "bytes", u, "compressed", c)
	return nil
}

// checkDecodes decodes a compressed segment and compares its length and
// SHA-256 with the original's.
func checkDecodes(zpath string, size int64, sum []byte) error {
	r, err := openCompressedAt(zpath, 0)
	if err != nil {
		return err
	}
	defer r.Close()
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return err
	}
	if n != size || !bytes.Equal(h.Sum(nil), sum) {
		return errors.New("decoded bytes differ")
	}
	return nil
}

// zidxPath returns the frame index path of a compressed segment path.
func zidxPath(zpath string) string {
	return strings.TrimSuffix(zpath, ".jsonl.zst") + ".zidx"
}
