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
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/sealog/sealog/internal/durable"
	"github.com/sealog/sealog/layout"
)

// frameSize is the uncompressed size of one zstd frame in a compressed
// segment: a random read decodes at most this much.
const frameSize = 1 << 20

// compressor compresses sealed segments in the background, one at a time,
// and removes each plain file plainGrace after its compressed copy
// appeared.
type compressor struct {
	s    *Store
	mu   sync.Mutex
	todo []uint64
	due  []plainRemoval // in order of time
	wake chan struct{}
	quit chan struct{}
	done chan struct{}
}

type plainRemoval struct {
	first uint64
	at    time.Time
}

// plainGrace is how long a plain segment stays after its compressed copy
// appeared, when Options.KeepPlain is 0: a reader that listed the segments
// directory a moment before (and took the plain file) may still open it.
var plainGrace atomic.Int64

func init() { plainGrace.Store(int64(10 * time.Second)) }

func (c *compressor) grace() time.Duration {
	if d := c.s.opts.KeepPlain; d > 0 {
		return d
	}
	return time.Duration(plainGrace.Load())
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

// stop stops the compressor and removes the plain files still waiting
// for their grace to end: a closed log keeps one copy of each segment
// (verifiers read a plain file beside its compressed copy first, and warn
// about the duplicate).
func (c *compressor) stop() {
	close(c.quit)
	<-c.done
	c.mu.Lock()
	due := c.due
	c.due = nil
	c.mu.Unlock()
	for _, d := range due {
		if err := c.s.removePlain(d.first); err != nil {
			c.s.log.Warn("removing a compressed segment's plain file failed", "segment", layout.SegmentName(d.first, false), "error", err)
		}
	}
}

// removeLater schedules the removal of segment first's plain file.
func (c *compressor) removeLater(first uint64) {
	c.mu.Lock()
	c.due = append(c.due, plainRemoval{first, time.Now().Add(c.grace())})
	c.mu.Unlock()
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
		var next *plainRemoval
		if len(c.due) > 0 {
			next = &c.due[0]
		}
		c.mu.Unlock()
		if next != nil && !time.Now().Before(next.at) {
			c.mu.Lock()
			c.due = c.due[1:]
			c.mu.Unlock()
			if err := c.s.removePlain(next.first); err != nil {
				c.s.log.Warn("removing a compressed segment's plain file failed", "segment", layout.SegmentName(next.first, false), "error", err)
			}
			if have {
				c.enqueue(first) // after the removal, in turn
			}
			continue
		}
		if !have {
			var t *time.Timer
			var timer <-chan time.Time
			if next != nil {
				t = time.NewTimer(time.Until(next.at))
				timer = t.C
			}
			quit := false
			select {
			case <-c.wake:
			case <-timer:
			case <-c.quit:
				quit = true
			}
			if t != nil {
				t.Stop()
			}
			if quit {
				return
			}
			continue
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
// copy made of independent frames, plus a frame index, publishing in an
// order readers can follow: the copy is written under a temporary name,
// decoded and checked against the original, its frame index written, and
// only then renamed into place, so that a compressed segment a reader can
// see is always complete; the plain file stays plainGrace longer (and a
// compressed copy with its frame index beside a plain file is a finished
// compression, which a restart completes).
func (s *Store) compressSegment(first uint64, quit <-chan struct{}) error {
	s.rewrite.Lock()
	defer s.rewrite.Unlock()
	sd := filepath.Join(s.dir, layout.SegmentsDir)
	plain := filepath.Join(sd, layout.SegmentName(first, false))
	zpath := filepath.Join(sd, layout.SegmentName(first, true))
	if s.isCompressed(first) {
		return nil
	}
	if exists(zpath) && exists(zidxPath(zpath)) {
		s.compressed(first, plain, zpath) // finished before a restart
		return nil
	}
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
	if err := checkDecodes(out.Name(), u, srcHash.Sum(nil)); err != nil {
		return fmt.Errorf("%s: the compressed copy does not decode to the original: %w", plain, err)
	}
	if err := durable.WriteFile(zidxPath(zpath), idx, 0o644); err != nil {
		return err
	}
	if err := out.Commit(); err != nil {
		return err
	}
	committed = true
	s.compressed(first, plain, zpath)
	s.log.Info("compressed a sealed segment", "segment", filepath.Base(zpath), "bytes", u, "compressed", c)
	return nil
}

// compressed makes the store read segment first from its compressed copy
// and schedules the removal of its plain file. The caller holds rewrite.
func (s *Store) compressed(first uint64, plain, zpath string) {
	s.mu.Lock()
	for i := range s.segs {
		if s.segs[i].first == first {
			s.segs[i].path, s.segs[i].compressed = zpath, true
		}
	}
	s.mu.Unlock()
	s.readers.drop(plain)
	if s.comp != nil {
		s.comp.removeLater(first)
	}
}

// isCompressed reports whether the store reads segment first from its
// compressed copy.
func (s *Store) isCompressed(first uint64) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, sg := range s.segs {
		if sg.first == first {
			return sg.compressed
		}
	}
	return false
}

// removePlain removes segment first's plain file, unless the segment was
// rewritten since (an erasure makes the plain file the segment again).
func (s *Store) removePlain(first uint64) error {
	s.rewrite.Lock()
	defer s.rewrite.Unlock()
	if !s.isCompressed(first) {
		return nil
	}
	sd := filepath.Join(s.dir, layout.SegmentsDir)
	if err := os.Remove(filepath.Join(sd, layout.SegmentName(first, false))); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	return durable.SyncDir(sd)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
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
