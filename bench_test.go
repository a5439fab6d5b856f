package sealog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// benchEvent is the shared workload of ../shared/anchors (internal/wl): a
// typical audit event with a ~300-byte payload.
func benchEvent(seq uint64) Event {
	kinds := []string{"user.login", "user.logout", "doc.read", "doc.update", "role.grant", "key.rotate"}
	actors := []string{"alice@example.com", "bob@example.org", "svc-billing@corp.example", "carol.admin@example.net"}
	sess := sha256.Sum256(fmt.Appendf(nil, "%d", seq))
	ts := time.Date(2026, 11, 21, 8, 42, 13, 0, time.UTC).Add(time.Duration(seq) * 1731 * time.Microsecond)
	p, _ := json.Marshal(map[string]any{
		"ts":         ts.Format(time.RFC3339Nano),
		"ip":         fmt.Sprintf("203.0.%d.%d", (seq/256)%256, seq%256),
		"method":     "password",
		"session":    hex.EncodeToString(sess[:12]),
		"success":    seq%7 != 0,
		"user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0 " + strings.Repeat("x", 35),
	})
	return Event{Kind: kinds[seq%6], Actor: actors[seq%4], Resource: fmt.Sprintf("doc/%d", seq%1000), Payload: json.RawMessage(p)}
}

func benchEvents(n int) []Event {
	evs := make([]Event, n)
	for i := range evs {
		evs[i] = benchEvent(uint64(i))
	}
	return evs
}

// cpuTime returns the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkAppend measures durable appends (fsync before each
// acknowledgement) with 1, 16 and 64 concurrent appenders, each calling
// Append for one event at a time. It reports entries/s and the latency
// percentiles of single appends.
func BenchmarkAppend(b *testing.B) {
	for _, c := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("appenders=%d", c), func(b *testing.B) {
			evs := benchEvents(4096)
			l, err := Open(b.TempDir(), Options{Key: testKey(b)})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			var next atomic.Int64
			lat := make([][]time.Duration, c)
			b.SetBytes(int64(len(evs[0].Payload.(json.RawMessage))))
			b.ResetTimer()
			cpu0 := cpuTime()
			start := time.Now()
			var wg sync.WaitGroup
			for g := 0; g < c; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := next.Add(1) - 1
						if i >= int64(b.N) {
							return
						}
						t0 := time.Now()
						if _, err := l.Append(ctx, evs[i%int64(len(evs))]); err != nil {
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
			var all []time.Duration
			for _, x := range lat {
				all = append(all, x...)
			}
			sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
			b.ReportMetric(float64(b.N)/el.Seconds(), "entries/s")
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N)/1000, "cpu-µs/entry")
			if len(all) > 0 {
				b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
				b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
			}
			if err := l.Close(); err != nil {
				b.Fatal(err)
			}
		})
	}
}
