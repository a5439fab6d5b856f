package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
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
// batch=1/floor is the same load against the cheapest handler net/http
// can have, which reads the body and answers a receipt recorded from the
// real server: what loopback HTTP itself costs on the machine, the
// ceiling of batch=1. Compare the two in one run.
//
//	go test ./server -run '^$' -bench AppendHTTP -benchtime 20000x
func BenchmarkAppendHTTP(b *testing.B) {
	for _, batch := range []int{1, 1000} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			ts := newTestServer(b, Config{Logger: slog.New(slog.DiscardHandler)})
			loadHTTP(b, ts.url, ts.tokens[RoleAppend], eventsBody(batch), batch)
			st := ts.log.Stats()
			b.ReportMetric(float64(st.Entries)/float64(max(st.Batches, 1)), "entries/batch")
			b.ReportMetric(st.StoreTime.Seconds()/float64(max(st.Batches, 1))*1000, "store-ms/batch")
		})
	}
	b.Run("batch=1/floor", func(b *testing.B) {
		ts := newTestServer(b, Config{Logger: slog.New(slog.DiscardHandler)})
		postOnce(b, ts.url, ts.tokens[RoleAppend], eventsBody(1000)) // so that the receipt holds a proof
		receipt := postOnce(b, ts.url, ts.tokens[RoleAppend], eventsBody(1))
		floor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			w.Write(receipt)
		}))
		defer floor.Close()
		loadHTTP(b, floor.URL, "", eventsBody(1), 1)
		b.ReportMetric(float64(len(receipt)), "response-bytes")
	})
}

// eventsBody is a request body of n events: one object when n is 1.
func eventsBody(n int) []byte {
	body := []byte(events(n))
	if n == 1 {
		body = body[1 : len(body)-1]
	}
	return body
}

// postOnce posts body to url's /v1/entries and returns the response body.
func postOnce(b *testing.B, url, token string, body []byte) []byte {
	req, _ := http.NewRequestWithContext(context.Background(), "POST", url+"/v1/entries", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("POST /v1/entries: %s, %v: %s", resp.Status, err, out)
	}
	return out
}

// loadHTTP posts body to url's /v1/entries b.N times over 64
// connections, and reports events/s and cpu-µs/req.
func loadHTTP(b *testing.B, url, token string, body []byte, perRequest int) {
	tr := &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}
	defer tr.CloseIdleConnections()
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
				req, _ := http.NewRequestWithContext(context.Background(), "POST", url+"/v1/entries", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := hc.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("POST /v1/entries: %s", resp.Status)
					return
				}
			}
		}()
	}
	wg.Wait()
	cpu := cpuTime() - cpu0
	b.StopTimer()
	b.ReportMetric(float64(b.N*perRequest)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/1000, "cpu-µs/req")
}

// cpuTime returns the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
