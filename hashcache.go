package sealog

import (
	"context"
	"sync"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/store"
)

// hashCache keeps the tree hashes a Log's proofs read most: those of the
// batches it committed last (hashRing of them, by stored-hash index, put
// there by the engine as each batch becomes durable), and those it read
// from the store (the older subtrees of the tree's right edge, which every
// proof to a recent checkpoint needs; at most hashReadMax, dropped all at
// once when full). A receipt's proof then costs no store read, which for a
// database is a round trip per request. Stored hashes never change once
// committed (erasure and pruning keep them), so a cached hash is never
// stale.
type hashCache struct {
	mu   sync.RWMutex
	ring []tlog.Hash // hashRing of them for a Log that writes, else none
	tags []int64     // index+1 of the hash in each slot; 0: empty
	read map[int64]tlog.Hash
}

const (
	hashRing    = 1 << 16 // 2 MiB of recent hashes: about 32,000 entries
	hashReadMax = 4096
)

// newHashCache returns a cache; with ring, one that keeps the hashes put.
func newHashCache(ring bool) *hashCache {
	c := new(hashCache)
	if ring {
		c.ring, c.tags = make([]tlog.Hash, hashRing), make([]int64, hashRing)
	}
	return c
}

// put records the stored hashes hs, the first at index first. It copies
// them.
func (c *hashCache) put(first int64, hs []tlog.Hash) {
	if c.ring == nil {
		return
	}
	if len(hs) > hashRing {
		first, hs = first+int64(len(hs)-hashRing), hs[len(hs)-hashRing:]
	}
	c.mu.Lock()
	for i, h := range hs {
		x := first + int64(i)
		c.ring[x&(hashRing-1)], c.tags[x&(hashRing-1)] = h, x+1
	}
	c.mu.Unlock()
}

// reader returns a tlog.HashReader that answers from c what it can and
// reads the rest from st, in one call.
func (c *hashCache) reader(ctx context.Context, st store.Store) tlog.HashReader {
	return cachedReader{ctx, c, st}
}

type cachedReader struct {
	ctx context.Context
	c   *hashCache
	st  store.Store
}

func (r cachedReader) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	var miss []int64
	var at []int
	r.c.mu.RLock()
	for i, x := range indexes {
		if x >= 0 && r.c.ring != nil && r.c.tags[x&(hashRing-1)] == x+1 {
			out[i] = r.c.ring[x&(hashRing-1)]
		} else if h, ok := r.c.read[x]; ok {
			out[i] = h
		} else {
			miss, at = append(miss, x), append(at, i)
		}
	}
	r.c.mu.RUnlock()
	if len(miss) == 0 {
		return out, nil
	}
	hs, err := r.st.ReadHashes(r.ctx, miss)
	if err != nil {
		return nil, err
	}
	if len(hs) != len(miss) {
		return nil, store.ErrCorrupt
	}
	r.c.mu.Lock()
	if r.c.read == nil || len(r.c.read)+len(miss) > hashReadMax {
		r.c.read = make(map[int64]tlog.Hash, hashReadMax)
	}
	for k, h := range hs {
		out[at[k]] = h
		if len(r.c.read) < hashReadMax {
			r.c.read[miss[k]] = h
		}
	}
	r.c.mu.Unlock()
	return out, nil
}

// HashReader returns a tlog.HashReader over the log's stored tree hashes
// (for tlog.ProveRecord, tlog.ProveTree, tlog.TreeHash), answering from
// memory the hashes of the batches this Log committed recently and of the
// tree's older subtrees it read before, and reading the rest from the
// store with ctx. The hashes are the log's stored hashes, not checked
// against a checkpoint: check what is built on them.
func (l *Log) HashReader(ctx context.Context) tlog.HashReader {
	return l.hashes.reader(ctx, l.st)
}
