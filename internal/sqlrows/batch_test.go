package sqlrows

import (
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/store/storetest"
)

// TestHashEntry checks hashEntry against tlog: every stored hash of the
// first 5000 entries maps back to the entry that stores it, at its level.
func TestHashEntry(t *testing.T) {
	for seq := int64(0); seq < 5000; seq++ {
		first, next := tlog.StoredHashIndex(0, seq), tlog.StoredHashIndex(0, seq+1)
		for idx := first; idx < next; idx++ {
			got, level, ok := HashEntry(idx)
			if !ok || got != uint64(seq) || level != int(idx-first) {
				t.Fatalf("hashEntry(%d) = %d, %d, %t; want entry %d, level %d", idx, got, level, ok, seq, idx-first)
			}
		}
	}
	for _, idx := range []int64{-1, 1 << 62, 1<<63 - 1} {
		if _, _, ok := HashEntry(idx); ok {
			t.Errorf("hashEntry(%d) is ok", idx)
		}
	}
}

func BenchmarkBatchRows(b *testing.B) {
	batch := storetest.NewBuilder("w").Batch(64)
	for b.Loop() {
		if _, err := FromBatch(batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*64)/1000, "µs/entry")
}
