package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"
)

// BenchmarkAppendHTTP measures POST /v1/entries over loopback: 64
// connections, one event per request (or 1,000). cpu-µs/req is the
// process's CPU time (getrusage: client and server together, user and
// system) per request, the figure to compare on a shared machine, where
// wall time and events/s move with the other load.
//
//	go test ./server -run '^$' -bench AppendHTTP -benchtime 20000x
func BenchmarkAppendHTTP(b *testing.B) {
	for _, batch := range []int{1, 1000} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			ts := newTestServer(b, Config{Logger: slog.New(slog.DiscardHandler)})
			body := []byte(events(batch))
			if batch == 1 {
				body = body[1 : len(body)-1]
			}
			tr := &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}
			hc := &http.Client{Transport: tr, Timeout: time.Minute}
			var wg sync.WaitGroup
			next := make(chan struct{}, b.N)
			for range b.N {
				next <- struct{}{}
			}
			close(next)
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			for range 64 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range next {
						req, _ := http.NewRequestWithContext(context.Background(), "POST", ts.url+"/v1/entries", bytes.NewReader(body))
						req.Header.Set("Authorization", "Bearer "+ts.tokens[RoleAppend])
						resp, err := hc.Do(req)
						if err != nil {
							b.Error(err)
							return
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
				}()
			}
			wg.Wait()
			cpu := cpuTime() - cpu0
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/1000, "cpu-µs/req")
			st := ts.log.Stats()
			b.ReportMetric(float64(st.Entries)/float64(max(st.Batches, 1)), "entries/batch")
			b.ReportMetric(st.StoreTime.Seconds()/float64(max(st.Batches, 1))*1000, "store-ms/batch")
		})
	}
}

// cpuTime returns the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
