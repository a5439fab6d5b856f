package verify

import (
	"context"
	"encoding/binary"
	"sort"
	"sync"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/checkpoint"
)

// sigPoint is a batch signature on the tree of the first size entries.
type sigPoint struct {
	size  uint64
	root  tlog.Hash
	sig   []byte
	at    place // the line that carries it (at.seq = size-1)
	ok    bool  // root is known (the tree was intact up to here)
	clean bool  // no entry problem was seen before this line
	from  uint64
	v     note.Verifier // the key the chain expects here, set by sigBook.add (for the pool's goroutines)
}

// sigBook keeps what verification needs of the batch signatures without
// keeping them all: the newest, the two newest clean ones (made before any
// entry problem: the newest of them that verifies authenticates the
// entries before the damage), the counts, and, with every signature
// checked, the lowest failure and the failures beyond the first few.
type sigBook struct {
	chain  *keyChain
	origin string

	newest sigPoint
	clean  [2]sigPoint // clean[0] the newest
	prev   uint64      // size of the previous signature (the next batch's first seq)

	seen      int        // signature members read
	foreign   []sigPoint // members whose key hash is not the key's (first few)
	foreignN  int
	maxKeep   int
	otherHash uint32 // a key hash found in place of the key's, for the report

	all *sigPool // every signature checked, when set
}

func newSigBook(candidates []candidate, origin string, maxKeep int) *sigBook {
	return &sigBook{chain: newKeyChain(origin, candidates), origin: origin, maxKeep: maxKeep}
}

// keyHash returns the key hash the chain expects on the signature of the
// tree of the first size entries.
func (b *sigBook) keyHash(size uint64) uint32 { return b.chain.at(size).v.KeyHash() }

// add takes the signature point on the line just read.
func (b *sigBook) add(p *sigPoint) {
	p.from, b.prev = b.prev, p.size
	b.seen++
	b.newest = *p
	if p.clean && p.ok {
		b.clean[1], b.clean[0] = b.clean[0], *p
	}
	b.chain.choose(p.sig)
	p.v = b.chain.at(p.size).v
	if h := binary.BigEndian.Uint32(p.sig); h != p.v.KeyHash() {
		b.foreignN++
		b.otherHash = h
		if len(b.foreign) < b.maxKeep {
			b.foreign = append(b.foreign, *p)
		}
		if b.all != nil {
			b.all.failed(*p)
		}
		return
	}
	if b.all != nil {
		if p.ok {
			b.all.submit(*p)
		} else {
			b.all.skip()
		}
	}
}

// check verifies one signature point with the key the book's chain
// expects at its size. Not for the pool's goroutines, which run while the
// chain grows: they use checkWith(p, p.v).
func (b *sigBook) check(p *sigPoint) bool { return b.checkWith(p, b.chain.at(p.size).v) }

func (b *sigBook) checkWith(p *sigPoint, v note.Verifier) bool {
	return p.ok && checkpoint.VerifyText(v, checkpoint.Checkpoint{Origin: b.origin, Size: p.size, Root: p.root}.Text(), p.sig)
}

// sigPool checks batch signatures on a pool of goroutines: every one, for
// Options.AllSignatures and the second pass.
type sigPool struct {
	b    *sigBook
	jobs chan sigPoint
	wg   sync.WaitGroup

	mu        sync.Mutex
	verified  int
	unchecked int
	maxOK     uint64     // the largest size whose signature verified
	fails     []sigPoint // failures, the lowest b.maxKeep kept
	failN     int
}

func startSigPool(ctx context.Context, b *sigBook, workers int) *sigPool {
	s := &sigPool{b: b, jobs: make(chan sigPoint, 64)}
	b.all = s
	for range workers {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			for p := range s.jobs {
				if ctx.Err() == nil && b.checkWith(&p, p.v) {
					s.mu.Lock()
					s.verified++
					s.maxOK = max(s.maxOK, p.size)
					s.mu.Unlock()
				} else {
					s.failed(p)
				}
			}
		}()
	}
	return s
}

func (s *sigPool) submit(p sigPoint) { s.jobs <- p }

func (s *sigPool) skip() {
	s.mu.Lock()
	s.unchecked++
	s.mu.Unlock()
}

func (s *sigPool) failed(p sigPoint) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failN++
	s.fails = append(s.fails, p)
	if len(s.fails) > 2*s.b.maxKeep {
		s.trim()
	}
}

// trim keeps the lowest maxKeep failures (by size).
func (s *sigPool) trim() {
	sort.Slice(s.fails, func(i, j int) bool { return s.fails[i].size < s.fails[j].size })
	if len(s.fails) > s.b.maxKeep {
		s.fails = s.fails[:s.b.maxKeep]
	}
}

// wait ends the pool and returns the failures, lowest first.
func (s *sigPool) wait() {
	close(s.jobs)
	s.wg.Wait()
	s.trim()
}

// sortPoints sorts signature points by size.
func sortPoints(ps []sigPoint) {
	sort.Slice(ps, func(i, j int) bool { return ps[i].size < ps[j].size })
}
