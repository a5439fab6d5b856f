package sealog

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/tree"
)

// BenchmarkGroupCommitFloor is BenchmarkAppend's ceiling on this disk and
// these processors: BenchmarkAppend's callers (each hands over one event
// and waits for the fdatasync of the batch holding it), served by the
// simplest group commit there is: one goroutine takes what is queued,
// writes it into a zero-filled file (as the file store's preallocated
// segments are), calls fdatasync and answers those callers. Run it beside
// BenchmarkAppend and compare them in the same run (docs/PERFORMANCE.md).
//
// Two axes:
//
//   - groups=two takes whatever is queued the moment the previous
//     fdatasync returns: the callers just answered miss it, so they fall
//     into two halves that alternate, and each caller waits for two
//     fdatasyncs. groups=one waits until every caller is queued: one
//     fdatasync per round of all the callers.
//   - work=none writes a record of a line's size (485 bytes) and does
//     nothing else. work=format does what the log's format requires and
//     nothing more, with the log's own code: each caller salts, encodes
//     and hashes its event (as Log.Append does before submitting it); the
//     committing goroutine chains, hashes into the tree and encodes each
//     line, and signs one checkpoint per batch. No store, no index, no
//     engine goroutines, no allocation per event.
//
// So work=format, groups=one is what a log of this format can do here
// with one goroutine doing the commits; the rest of BenchmarkAppend's
// cost is the engine's and the store's.
//
//	go test -run '^$' -bench '^Benchmark(Append|GroupCommitFloor)$/appenders=(16|64)$' -benchtime 100000x .
func BenchmarkGroupCommitFloor(b *testing.B) {
	for _, c := range []int{1, 16, 64} {
		for _, groups := range []string{"two", "one"} {
			for _, work := range []string{"none", "format"} {
				b.Run(fmt.Sprintf("appenders=%d/groups=%s/work=%s", c, groups, work), func(b *testing.B) {
					benchFloor(b, c, groups == "one", work == "format")
				})
			}
		}
	}
}

func benchFloor(b *testing.B, c int, oneGroup, work bool) {
	const fileSize = 64 << 20
	f, err := os.Create(filepath.Join(b.TempDir(), "floor"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	zeros := make([]byte, 4096) // page by page, as the store preallocates (store/file/prealloc.go)
	for off := int64(0); off < fileSize; off += int64(len(zeros)) {
		if _, err := f.WriteAt(zeros, off); err != nil {
			b.Fatal(err)
		}
	}
	if err := f.Sync(); err != nil {
		b.Fatal(err)
	}
	evs := benchEvents(4096)
	fl := newFloorLog(b)
	var (
		mu       sync.Mutex
		queued   = sync.NewCond(&mu)
		waiting  []*floorCall
		answered int
		syncs    int
	)
	committed := make(chan struct{})
	go func() {
		defer close(committed)
		var off int64
		rec := []byte(strings.Repeat("x", 484) + "\n") // a line's size (docs/PERFORMANCE.md)
		var buf []byte
		for answered < b.N {
			// Every caller still to be answered comes back after its
			// answer, so with groups=one the batch waits for
			// min(callers, what is left).
			want := 1
			if oneGroup {
				want = min(c, b.N-answered)
			}
			mu.Lock()
			for len(waiting) < want {
				queued.Wait()
			}
			batch := waiting
			waiting = nil
			mu.Unlock()
			buf = buf[:0]
			if work {
				buf = fl.batch(buf, batch)
			} else {
				for range batch {
					buf = append(buf, rec...)
				}
			}
			if off+int64(len(buf)) > fileSize {
				off = 0 // overwrite: the space stays allocated, as in a segment
			}
			_, err := f.WriteAt(buf, off)
			if err == nil {
				err = syscall.Fdatasync(int(f.Fd()))
			}
			off += int64(len(buf))
			syncs++
			answered += len(batch)
			for _, w := range batch {
				w.done <- err
			}
		}
	}()
	calls := make([]floorCall, c) // one per caller, made before the timer
	for g := range calls {
		calls[g].done = make(chan error, 1)
		calls[g].salted = make([]byte, 0, 1024)
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	lat, el := testkit.RunCallers(b, c, func(g int, i int64) error {
		w := &calls[g]
		if work {
			if err := w.prepare(&evs[i%int64(len(evs))]); err != nil {
				return err
			}
		}
		mu.Lock()
		waiting = append(waiting, w)
		queued.Signal()
		mu.Unlock()
		return <-w.done
	})
	<-committed
	b.ReportMetric(float64(b.N)/el.Seconds(), "entries/s")
	b.ReportMetric(float64(b.N)/float64(max(syncs, 1)), "entries/batch")
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N)/1000, "cpu-µs/entry")
	reportLatency(b, lat)
}

// floorCall is one caller of benchFloor and the event it hands over.
type floorCall struct {
	done   chan error
	salted []byte // salt || encoded event, reused
	body   tlog.Hash
}

// prepare does what Log.prepare does for one event: a random salt, the
// compact payload, the encoded event, the body hash.
func (w *floorCall) prepare(ev *Event) error {
	w.salted = w.salted[:format.SaltSize]
	if _, err := rand.Read(w.salted); err != nil {
		return err
	}
	payload, err := format.CompactPayload(nil, ev.Payload.(json.RawMessage))
	if err != nil {
		return err
	}
	w.salted, err = format.AppendEvent(w.salted, ev.Kind, ev.Actor, ev.Resource, payload)
	if err != nil {
		return err
	}
	w.body = sha256.Sum256(w.salted)
	return nil
}

// floorLog is the chain and tree state of benchFloor's log.
type floorLog struct {
	signer  note.Signer
	edge    tree.Edge
	last    tlog.Hash
	scratch []tlog.Hash
	hashes  []tlog.Hash
}

func newFloorLog(b *testing.B) *floorLog {
	return &floorLog{signer: testKey(b).Signer()}
}

// batch appends the lines of a batch of calls to buf, as the engine's
// builder does (leaf hash, chain, tree, line; one signed checkpoint on the
// last line), and returns buf.
func (fl *floorLog) batch(buf []byte, calls []*floorCall) []byte {
	now := time.Now().UnixNano()
	fl.hashes = fl.hashes[:0]
	for _, w := range calls {
		seq := fl.edge.Size()
		h := format.Header{Seq: seq, Time: now, Prev: fl.last, BodyHash: w.body}
		leaf := h.LeafHash()
		fl.scratch = fl.edge.Append(leaf, fl.scratch[:0])
		fl.hashes = append(fl.hashes, fl.scratch...) // the store's tree hashes
		var salt [format.SaltSize]byte
		copy(salt[:], w.salted)
		line := format.Line{Seq: seq, Time: now, Prev: fl.last, Salt: salt, Event: w.salted[format.SaltSize:]}
		buf = format.AppendLine(buf, &line)
		fl.last = leaf
	}
	text := checkpoint.Checkpoint{Origin: testkit.Origin, Size: fl.edge.Size(), Root: fl.edge.Root()}.Text()
	sig, err := checkpoint.SignText(text, fl.signer)
	if err != nil {
		panic(err)
	}
	buf = format.AppendSig(buf[:len(buf)-2], sig)
	return append(buf, '}', '\n')
}
