//go:build unix

package file

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/sealog/sealog/internal/durable"
)

// Preallocation. An fdatasync after an append that grows a file must also
// commit the new size and block allocation to the filesystem journal; one
// after a write into space that is already allocated and written only
// flushes data, which on ext4 here takes half the time. So a background
// goroutine keeps space ready:
//
//   - a spare segment: a file of SegmentSize zero bytes, synced, that the
//     next rotation renames into place as the new active segment;
//   - when the active segment was not born from a spare (a new log, or one
//     just opened), it zero-fills the active segment itself, a few MiB
//     ahead of the write position.
//
// The zeros are NUL padding that readers stop at (docs/FORMAT.md), that
// recovery cuts, and that sealing or closing a segment truncates.
//
// Preallocation only makes fsyncs cheaper, so it must never be why an
// append fails for lack of space: it takes space only while the
// filesystem keeps preReserve (or a sixteenth of its size, if more) free
// after it, so a small filesystem gets none; it gives the spare back as
// soon as free space falls below that; and space a failed zero-fill took
// is given back at once.
const (
	preChunk   = 4 << 20  // zero-filled per step in the active segment
	preLowMark = 2 << 20  // start a step when less than this is left
	preLead    = 1 << 20  // leave this much before the first step, so the writer never waits on it
	preReserve = 64 << 20 // keep at least this much free
	preCheck   = 1 << 20  // look at the free space again after this many bytes written
)

// spareName is the spare segment's name in segments/; it is not a segment
// name, so readers ignore it.
const spareName = "spare"

type prealloc struct {
	log   *slog.Logger
	dir   string // segments directory
	size  int64  // segment size
	zeros []byte

	mu       sync.Mutex
	cond     *sync.Cond
	f        *durable.File // the active segment; nil when detached
	pos      int64         // the writer's position in it
	end      int64         // the active segment is written (data or zeros) up to here
	busy     bool          // a step is zero-filling [busyFrom, busyTo) of f
	busyFrom int64
	busyTo   int64
	failed   bool // zero-filling failed once: stop trying
	spare    bool // the spare segment is ready

	wake chan struct{}
	quit chan struct{}
	done chan struct{}
}

func startPrealloc(f *durable.File, dir string, size int64, log *slog.Logger) *prealloc {
	p := &prealloc{log: log, dir: dir, size: size, zeros: make([]byte, zeroPage),
		wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	p.cond = sync.NewCond(&p.mu)
	os.Remove(filepath.Join(dir, spareName)) // maybe half made before a crash
	p.f, p.pos, p.end = f, f.Size(), f.Size()+preLead
	go p.run()
	p.kick()
	return p
}

func (p *prealloc) kick() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// beforeWrite waits while [off, off+n) overlaps the region being
// zero-filled, and then claims it, so that a step that starts while the
// write is in flight zero-fills only past it: zeros never land on data.
func (p *prealloc) beforeWrite(off, n int64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	for p.busy && off < p.busyTo && off+n > p.busyFrom {
		p.cond.Wait()
	}
	if p.end < off+n {
		p.end = off + n
	}
	p.mu.Unlock()
}

// afterWrite records the new write position and starts a step if the
// preallocated space runs low, or to look at the free space again.
func (p *prealloc) afterWrite(pos int64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	check := pos/preCheck != p.pos/preCheck
	p.pos = pos
	if p.end < pos {
		p.end = pos
	}
	low := p.f != nil && !p.failed && !p.busy && p.end-pos < preLowMark && p.end < p.size
	p.mu.Unlock()
	if low || check {
		p.kick()
	}
}

// room reports whether n more bytes may be preallocated on the
// filesystem of the segments directory.
func (p *prealloc) room(n int64) bool {
	free, total, err := diskSpace(p.dir)
	if err != nil {
		return false
	}
	return free-n >= max(preReserve, total/16)
}

// detach waits for a step in progress and stops touching the active
// segment (before it is truncated and sealed).
func (p *prealloc) detach() {
	if p == nil {
		return
	}
	p.mu.Lock()
	for p.busy {
		p.cond.Wait()
	}
	p.f = nil
	p.mu.Unlock()
}

// takeSpare renames the spare segment to path if it is ready, and reports
// whether it did. The caller syncs the directory.
func (p *prealloc) takeSpare(path string) bool {
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.spare {
		return false
	}
	p.spare = false
	if err := os.Rename(filepath.Join(p.dir, spareName), path); err != nil {
		p.log.Warn("using the spare segment failed", "error", err)
		return false
	}
	return true
}

// attach makes f the active segment; fromSpare says it is already
// zero-filled to the segment size.
func (p *prealloc) attach(f *durable.File, fromSpare bool) {
	if p == nil {
		return
	}
	p.mu.Lock()
	for p.busy {
		p.cond.Wait()
	}
	p.f, p.pos, p.end = f, f.Size(), f.Size()+preLead
	if fromSpare {
		p.end = p.size
	}
	p.mu.Unlock()
	p.kick()
}

// close stops the goroutine and removes the spare.
func (p *prealloc) close() {
	if p == nil {
		return
	}
	p.detach()
	close(p.quit)
	<-p.done
	os.Remove(filepath.Join(p.dir, spareName))
}

func (p *prealloc) run() {
	defer close(p.done)
	for {
		select {
		case <-p.wake:
		case <-p.quit:
			return
		}
		for p.step() {
			select {
			case <-p.quit:
				return
			default:
			}
		}
	}
}

// step does one piece of work and reports whether there may be more:
// giving space back when it runs short comes first, then extending the
// active segment, then making the spare.
func (p *prealloc) step() bool {
	p.mu.Lock()
	if p.spare && !p.room(0) {
		p.spare = false
		p.mu.Unlock()
		os.Remove(filepath.Join(p.dir, spareName))
		p.log.Info("removed the spare segment: the disk is running out of space")
		return false
	}
	if p.f != nil && !p.failed && p.end < p.size && p.end-p.pos < preChunk && p.room(preChunk) {
		f, from := p.f, p.end
		p.busy, p.busyFrom, p.busyTo = true, from, from+preChunk
		p.mu.Unlock()
		err := zeroFill(f.Name(), from, preChunk, p.zeros, p.quit)
		p.mu.Lock()
		if err != nil && !errors.Is(err, errStopped) {
			// Give back what the failed step took: no write reaches past
			// from while the step is busy.
			os.Truncate(f.Name(), from)
		}
		p.busy = false
		if errors.Is(err, errStopped) {
			p.cond.Broadcast()
			p.mu.Unlock()
			return false
		}
		if err != nil {
			p.failed = true
			p.log.Warn("preallocating segment space failed; appends go on without it", "error", err)
		} else if p.f == f && p.end < from+preChunk {
			p.end = from + preChunk
		}
		p.cond.Broadcast()
		p.mu.Unlock()
		return err == nil
	}
	// The spare is needed at the next rotation only: make it once the
	// active segment is half written, not at once (a log that never
	// fills a segment never pays for one).
	need := !p.spare && !p.failed && p.pos >= p.size/2 && p.room(p.size)
	p.mu.Unlock()
	if !need {
		return false
	}
	err := p.makeSpare()
	p.mu.Lock()
	if errors.Is(err, errStopped) {
		p.mu.Unlock()
		return false
	}
	if err != nil {
		p.failed = true
		p.log.Warn("preparing a spare segment failed; appends go on without it", "error", err)
	} else {
		p.spare = true
	}
	p.mu.Unlock()
	return false
}

// makeSpare writes the spare segment: size zero bytes, synced. It writes
// through the page cache (unlike zeroFill): the spare is another file, so
// its dirty pages never slow the active segment's fsyncs, and once it
// becomes the active segment, appends find its pages in the cache instead
// of reading them back from the disk.
func (p *prealloc) makeSpare() error {
	path := filepath.Join(p.dir, spareName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	for off := int64(0); off < p.size; off += zeroPage { // small folios: see zeroPage
		if off%(1<<20) == 0 {
			select {
			case <-p.quit:
				os.Remove(path)
				return errStopped
			default:
			}
		}
		if _, err := f.WriteAt(p.zeros[:min(zeroPage, p.size-off)], off); err != nil {
			os.Remove(path)
			return err
		}
	}
	if err := durable.DataSync(f); err != nil {
		os.Remove(path)
		return err
	}
	return nil
}

// zeroAlign is the block size zero-filling starts at.

// zeroPage is the size of each zero-filling write. The page cache makes
// its folios (the unit a later fdatasync writes back whole) as large as
// the write that creates them: zeros written 1 MiB at a time made every
// append's fdatasync write a MiB or more back (about 50 times the bytes
// appended, measured); written a page at a time, it writes back what the
// append touched.
const zeroPage = 4096
const zeroAlign = 4096

// zeroFill writes n zero bytes at off in the file at path and syncs them.
// off is rounded up to zeroAlign. It writes through the page cache, like
// makeSpare, so that appends find the pages there: an append that ends
// inside a page that is on the disk but not in the cache must first read
// it back — one synchronous read per batch, in the writer's path, when
// this used direct I/O (11 MB read back in a 100,000-entry bench;
// docs/PERFORMANCE.md). The sync right after keeps the dirty zeros out
// of the log's own fsyncs (one of them may still meet a step's zeros).
func zeroFill(path string, off, n int64, zeros []byte, quit <-chan struct{}) error {
	end := off + n
	off = (off + zeroAlign - 1) &^ (zeroAlign - 1)
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	for ; off < end; off += zeroPage {
		if off%(1<<20) == 0 {
			select {
			case <-quit:
				return errStopped
			default:
			}
		}
		if _, err := f.WriteAt(zeros[:zeroPage], off); err != nil {
			return err
		}
	}
	return durable.DataSync(f)
}

// diskSpace returns the bytes available to unprivileged users, and the
// size, of the filesystem holding path.
func diskSpace(path string) (free, total int64, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), int64(st.Blocks) * int64(st.Bsize), nil
}
