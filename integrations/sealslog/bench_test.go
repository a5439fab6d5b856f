package sealslog_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/integrations/internal/itest"
	"github.com/sealog/sealog/integrations/sealslog"
)

// BenchmarkHandler compares the cost of one record through the sealing
// handler (durable and signed before Handle returns, or queued) with
// slog.JSONHandler writing to a file (written, not synced), with 1 and 64
// concurrent loggers. Run with -benchtime=2s -count=3 and compare ratios
// within one run.
func BenchmarkHandler(b *testing.B) {
	for _, loggers := range []int{1, 64} {
		b.Run("loggers="+itoa(loggers), func(b *testing.B) {
			b.Run("json-file", func(b *testing.B) {
				f, err := os.Create(filepath.Join(b.TempDir(), "log.json"))
				if err != nil {
					b.Fatal(err)
				}
				defer f.Close()
				run(b, loggers, slog.New(slog.NewJSONHandler(f, nil)), nil)
			})
			b.Run("encode-only", func(b *testing.B) {
				// The handler's own cost: a no-op Appender instead of a log.
				run(b, loggers, slog.New(sealslog.New(noop{}, nil)), nil)
			})
			b.Run("sealed", func(b *testing.B) {
				l, _ := itest.Open(b)
				run(b, loggers, slog.New(sealslog.New(l, nil)), nil)
			})
			b.Run("sealed-async", func(b *testing.B) {
				l, _ := itest.Open(b)
				h := sealslog.New(l, &sealslog.Options{Async: true, Block: 10e9})
				run(b, loggers, slog.New(h), h)
			})
		})
	}
}

// run logs b.N records from loggers goroutines, then closes h (draining
// an async queue) inside the timing.
func run(b *testing.B, loggers int, lg *slog.Logger, h *sealslog.Handler) {
	lg = lg.With("service", "billing")
	record := func() {
		lg.Info("invoice.approve", "user", "alice@example.com", slog.Group("invoice", "id", 42, "amount_eur", 1200.5, "currency", "EUR"))
	}
	b.ReportAllocs()
	if loggers == 1 {
		for b.Loop() {
			record()
		}
	} else {
		b.SetParallelism(max(1, loggers/runtime.GOMAXPROCS(0)))
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				record()
			}
		})
	}
	if h != nil {
		if err := h.Close(context.Background()); err != nil {
			b.Fatal(err)
		}
		if s := h.Stats(); s.Failed != 0 {
			b.Fatalf("stats %+v", s)
		}
	}
}

// noop is an Appender that records nothing.
type noop struct{}

func (noop) Append(context.Context, sealog.Event) (sealog.Receipt, error) {
	return sealog.Receipt{}, nil
}

func (noop) AppendBatch(_ context.Context, evs []sealog.Event) ([]sealog.Receipt, error) {
	return make([]sealog.Receipt, len(evs)), nil
}

func itoa(n int) string {
	if n == 1 {
		return "1"
	}
	return "64"
}
