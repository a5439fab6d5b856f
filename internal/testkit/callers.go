package testkit

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// RunCallers is the benchmarks' load: c goroutines that call fn(g, i), g
// the goroutine's number, for i from 0 to b.N-1 between them, one call at
// a time each, as callers that each wait for their own append. It
// returns each goroutine's latencies and the time it all took, and stops
// the timer. The first error fn returns is reported (b.Error) and stops
// that goroutine.
func RunCallers(b *testing.B, c int, fn func(g int, i int64) error) ([][]time.Duration, time.Duration) {
	var next atomic.Int64
	lat := make([][]time.Duration, c)
	start := time.Now()
	var wg sync.WaitGroup
	for g := range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				t0 := time.Now()
				if err := fn(g, i); err != nil {
					b.Error(err)
					return
				}
				lat[g] = append(lat[g], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	b.StopTimer()
	return lat, el
}
