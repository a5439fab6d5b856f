package witness

import "testing"

// BenchmarkAddCheckpoint measures one add-checkpoint with its durable
// state update (write, fsync, rename, fsync of the directory), from the
// previous checkpoint: what a log's submission costs the witness.
func BenchmarkAddCheckpoint(b *testing.B) {
	l := newTreeLog(b, "bench")
	w := fuzzWitness(b, l)
	l.grow(1, "b")
	if a := w.add(l.request(0)); a.status != 200 {
		b.Fatal(a.status)
	}
	reqs := make([][]byte, b.N)
	for i := range reqs {
		old := l.n
		l.grow(8, "b")
		reqs[i] = l.request(old)
	}
	b.ResetTimer()
	for i := range b.N {
		if a := w.add(reqs[i]); a.status != 200 {
			b.Fatalf("%d: %d %s", i, a.status, a.body)
		}
	}
}
