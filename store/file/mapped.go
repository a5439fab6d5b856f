//go:build unix

package file

import (
	"fmt"
	"os"
	"runtime/debug"
	"sync"
	"syscall"

	"github.com/sealog/sealog/store"
)

// mapChunk is the size of one read-only mapping. Records (8-byte index
// entries, 32-byte hashes) never straddle two chunks.
const mapChunk = 32 << 20

// mapped reads fixed-size records of an append-only file through read-only
// memory mappings, so that a proof's twenty-odd hash reads cost no system
// calls. Chunks are mapped on first use; a chunk may extend past the end of
// the file (the caller only reads records it knows were written, and writes
// through the page cache are visible to the mapping at once).
type mapped struct {
	f    *os.File
	mu   sync.RWMutex // guards maps and f against Close while reading
	maps [][]byte
}

func newMapped(f *os.File) *mapped { return &mapped{f: f} }

// readAt copies len(p) bytes at off into p. off and len(p) must not cross a
// chunk boundary, which holds for aligned power-of-two records.
func (m *mapped) readAt(p []byte, off int64) error {
	c := int(off / mapChunk)
	for {
		m.mu.RLock()
		if m.f == nil {
			m.mu.RUnlock()
			return store.ErrClosed
		}
		if c < len(m.maps) && m.maps[c] != nil {
			err := copyNoFault(p, m.maps[c][off%mapChunk:])
			m.mu.RUnlock()
			if err != nil {
				return fmt.Errorf("reading %s at %d: %v", m.f.Name(), off, err)
			}
			return nil
		}
		m.mu.RUnlock()
		if _, err := m.mapChunk(c); err != nil {
			return err
		}
	}
}

// readRecords calls fn with each record of the given size at the given
// record indexes, under one lock and one fault guard: a proof reads twenty
// or so hashes at a time.
func (m *mapped) readRecords(indexes []int64, size int, fn func(i int, b []byte)) error {
	for {
		m.mu.RLock()
		if m.f == nil {
			m.mu.RUnlock()
			return store.ErrClosed
		}
		missing := -1
		for _, x := range indexes {
			c := int(x * int64(size) / mapChunk)
			if c >= len(m.maps) || m.maps[c] == nil {
				missing = c
				break
			}
		}
		if missing < 0 {
			err := noFault(func() {
				for i, x := range indexes {
					off := x * int64(size)
					chunk := m.maps[off/mapChunk]
					fn(i, chunk[off%mapChunk:off%mapChunk+int64(size)])
				}
			})
			m.mu.RUnlock()
			if err != nil {
				return fmt.Errorf("reading %s: %v", m.f.Name(), err)
			}
			return nil
		}
		m.mu.RUnlock()
		if _, err := m.mapChunk(missing); err != nil {
			return err
		}
	}
}

// noFault runs fn, turning a memory fault into an error.
func noFault(fn func()) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	fn()
	return nil
}

// copyNoFault copies src to dst, turning a memory fault into an error: a
// fault means the file shrank under the mapping (another process cut it
// during recovery), which must not crash the reader.
func copyNoFault(dst, src []byte) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	copy(dst, src)
	return nil
}

func (m *mapped) mapChunk(c int) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.f == nil {
		return nil, store.ErrClosed
	}
	for len(m.maps) <= c {
		m.maps = append(m.maps, nil)
	}
	if m.maps[c] == nil {
		b, err := syscall.Mmap(int(m.f.Fd()), int64(c)*mapChunk, mapChunk, syscall.PROT_READ, syscall.MAP_SHARED)
		if err != nil {
			return nil, fmt.Errorf("mmap %s: %w", m.f.Name(), err)
		}
		m.maps[c] = b
	}
	return m.maps[c], nil
}

// unmapFrom drops the mappings of chunks c and later, before the file is
// truncated below them.
func (m *mapped) unmapFrom(off int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for c := int(off / mapChunk); c < len(m.maps); c++ {
		if m.maps[c] != nil {
			syscall.Munmap(m.maps[c])
			m.maps[c] = nil
		}
	}
}

func (m *mapped) close() {
	m.unmapFrom(0)
	m.mu.Lock()
	m.maps, m.f = nil, nil
	m.mu.Unlock()
}
