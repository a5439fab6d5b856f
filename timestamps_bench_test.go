package sealog

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sealog/sealog/internal/testtsa"
	"github.com/sealog/sealog/tsa"
)

// BenchmarkAppendTimestamped measures what asking a TSA after every batch
// costs the appends: 16 appenders, one event each, with no TSA and with
// a local test TSA (ECDSA P-256, over HTTP on loopback). Compare the
// entries/s of the two in one run.
//
//	go test -run '^$' -bench AppendTimestamped -benchtime 20000x .
func BenchmarkAppendTimestamped(b *testing.B) {
	authority, err := testtsa.New(testtsa.Options{})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(authority)
	defer srv.Close()
	c, _ := tsa.New(tsa.Options{URL: srv.URL})
	for _, withTSA := range []bool{false, true} {
		b.Run(fmt.Sprintf("tsa=%v", withTSA), func(b *testing.B) {
			opts := Options{Key: testKey(b)}
			if withTSA {
				opts.Timestamper = c
			}
			l, err := Open(b.TempDir(), opts)
			if err != nil {
				b.Fatal(err)
			}
			evs := benchEvents(1024)
			ctx := context.Background()
			var next atomic.Int64
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for g := 0; g < 16; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := next.Add(1) - 1; i < int64(b.N); i = next.Add(1) - 1 {
						if _, err := l.Append(ctx, evs[i%int64(len(evs))]); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			el := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/el.Seconds(), "entries/s")
			st := l.TimestampStatus()
			b.ReportMetric(float64(st.Stamped), "timestamps")
			if s := l.Stats(); s.Batches > 0 {
				b.ReportMetric(float64(s.Batches), "batches")
			}
			l.Close()
		})
	}
}
