package server

import (
	"context"
	"sync"

	"github.com/sealog/sealog/store"
)

// lineCache holds the stored lines of recently committed entries, for
// the receipts. Concurrent appends are committed in one batch and each
// needs its own lines back; the file store reads ahead 256 KiB at every
// read, so each miss reads from the missing seq to the head and caches
// all of it, and a little before: a batch's receipts cost a store read
// or two, not one each.
//
// Lines are cached for seconds at most in practice (the ring holds the
// last lineCacheSize seqs); an entry erased in that window could be
// answered in its unerased form, to the client that just appended it.
type lineCache struct {
	mu   sync.Mutex // guards ring
	ring [lineCacheSize]cachedLine
}

const (
	lineCacheSize  = 1 << 14
	lineReadBehind = 256
)

type cachedLine struct {
	seq  uint64
	ok   bool
	line string
}

// get returns the lines of entries [first, first+n).
func (c *lineCache) get(ctx context.Context, st store.Store, first, n uint64) ([]string, error) {
	out := make([]string, n)
	for i := uint64(0); i < n; {
		seq := first + i
		if line, ok := c.lookup(seq); ok {
			out[i] = line
			i++
			continue
		}
		h, err := st.Head(ctx)
		if err != nil {
			return nil, err
		}
		// Read from a little before seq: the other requests of seq's
		// batch, which may hold lower seqs, then find their lines here.
		from := seq - min(seq, lineReadBehind)
		end := min(h.Size, seq+lineCacheSize/2)
		err = st.ReadLines(ctx, from, end, func(ln store.Line) error {
			c.put(ln.Seq, string(ln.Bytes))
			if ln.Seq >= first && ln.Seq < first+n {
				out[ln.Seq-first] = string(ln.Bytes)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if end < first+n {
			return nil, store.ErrNotFound
		}
		i = min(n, end-first)
	}
	return out, nil
}

func (c *lineCache) lookup(seq uint64) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := &c.ring[seq%lineCacheSize]
	return e.line, e.ok && e.seq == seq
}

func (c *lineCache) put(seq uint64, line string) {
	c.mu.Lock()
	c.ring[seq%lineCacheSize] = cachedLine{seq: seq, ok: true, line: line}
	c.mu.Unlock()
}
