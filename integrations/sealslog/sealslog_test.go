package sealslog_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/slogtest"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/integrations/internal/itest"
	"github.com/sealog/sealog/integrations/sealslog"
	"github.com/sealog/sealog/internal/testkit"
)

// TestSlogtest runs the standard library's handler conformance tests,
// reading each record back from a real log.
func TestSlogtest(t *testing.T) {
	var l *sealog.Log
	slogtest.Run(t, func(t *testing.T) slog.Handler {
		l, _ = itest.Open(t)
		return sealslog.New(l, nil)
	}, func(t *testing.T) map[string]any {
		es := itest.Entries(t, l)
		if len(es) != 1 {
			t.Fatalf("%d entries, want 1", len(es))
		}
		m := itest.Payload(t, es[0])
		if m[slog.MessageKey] != es[0].Kind {
			t.Errorf("kind %q, message %q", es[0].Kind, m[slog.MessageKey])
		}
		// slogtest wants the time as a time.Time, which JSON cannot say.
		if s, ok := m[slog.TimeKey].(string); ok {
			tm, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				t.Fatal(err)
			}
			m[slog.TimeKey] = tm
		}
		return m
	})
}

func TestPayload(t *testing.T) {
	l, _ := itest.Open(t)
	h := sealslog.New(l, &sealslog.Options{KindKey: "event", ActorKey: "user", ResourceKey: "object", AddSource: true})
	lg := slog.New(h).With("user", "alice@example.com", "svc", "billing")
	recTime := time.Date(2026, 11, 21, 8, 0, 0, 123, time.UTC)
	r := slog.NewRecord(recTime, slog.LevelWarn, "invoice approved", 0)
	r.AddAttrs(
		slog.String("event", "invoice.approve"),
		slog.String("object", "invoice/42"),
		slog.Group("amount", slog.Int("cents", 120000), slog.String("currency", "EUR"), slog.Group("tax", slog.Float64("rate", 0.2))),
		slog.Bool("urgent", true),
		slog.Uint64("big", 1<<63),
		slog.Duration("took", 1500*time.Millisecond),
		slog.Any("err", errors.New("none really")),
		slog.Any("list", []int{1, 2}),
		slog.String("msg", "an attribute named msg"),
		slog.String("bad", "a\x00b\xffc\"\n"),
	)
	if err := lg.Handler().Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	lg.WithGroup("req").Info("user.login", "ip", "203.0.113.9", slog.Group("empty"))

	es := itest.Entries(t, l)
	if len(es) != 2 {
		t.Fatalf("%d entries", len(es))
	}
	e := es[0]
	if e.Kind != "invoice.approve" || e.Actor != "alice@example.com" || e.Resource != "invoice/42" {
		t.Errorf("kind %q actor %q resource %q", e.Kind, e.Actor, e.Resource)
	}
	want := `{"time":"2026-11-21T08:00:00.000000123Z","level":"WARN","msg":"invoice approved","svc":"billing",` +
		`"amount":{"cents":120000,"currency":"EUR","tax":{"rate":0.2}},"urgent":true,"big":9223372036854775808,"took":1500000000,` +
		`"err":"none really","list":[1,2],"attr.msg":"an attribute named msg","bad":"a\u0000b\ufffdc\"\n"}`
	if string(e.Payload) != want {
		t.Errorf("payload\n%s\nwant\n%s", e.Payload, want)
	}
	m := itest.Payload(t, es[1])
	if es[1].Kind != "user.login" || es[1].Actor != "alice@example.com" {
		t.Errorf("second entry: kind %q actor %q", es[1].Kind, es[1].Actor)
	}
	src, _ := m["source"].(map[string]any)
	if f, _ := src["file"].(string); !strings.HasSuffix(f, "sealslog_test.go") || src["line"] == nil {
		t.Errorf("source %v", m["source"])
	}
	if req, _ := m["req"].(map[string]any); req["ip"] != "203.0.113.9" || len(req) != 1 {
		t.Errorf("req group %v", m["req"])
	}
	// The record's time is kept in the payload; the log stamps its own.
	if es[0].Time.Equal(recTime) {
		t.Errorf("entry time is the record's")
	}
}

// TestTee checks that records reach the wrapped handler too, at its own
// level, and that only those at the handler's level are sealed.
func TestTee(t *testing.T) {
	l, _ := itest.Open(t)
	var buf bytes.Buffer
	next := slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})
	lg := slog.New(sealslog.New(l, &sealslog.Options{Level: slog.LevelWarn, Next: next}))
	lg.With("a", 1).WithGroup("g").Debug("debug.only", "b", 2)
	lg.Warn("audit.me", "c", 3)
	if n := strings.Count(buf.String(), "\n"); n != 2 {
		t.Errorf("the wrapped handler got %d records:\n%s", n, buf.String())
	}
	if !strings.Contains(buf.String(), `"a":1,"g":{"b":2}`) {
		t.Errorf("the wrapped handler lost attrs or groups:\n%s", buf.String())
	}
	es := itest.Entries(t, l)
	if len(es) != 1 || es[0].Kind != "audit.me" {
		t.Fatalf("entries %v", es)
	}
}

// TestCancelledContext: a record logged with a cancelled context is
// still sealed.
func TestCancelledContext(t *testing.T) {
	l, _ := itest.Open(t)
	h := sealslog.New(l, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	slog.New(h).InfoContext(ctx, "request.cancelled")
	if es := itest.Entries(t, l); len(es) != 1 {
		t.Fatalf("%d entries, want 1", len(es))
	}
	if s := h.Stats(); s.Sealed != 1 || s.Failed != 0 {
		t.Errorf("stats %+v", s)
	}
}

// failing is an Appender that fails, or answers ErrOverloaded a number of
// times first.
type failing struct {
	mu         sync.Mutex
	overloaded int // answers ErrOverloaded this many times, then succeeds
	err        error
	appended   []sealog.Event
}

func (f *failing) Append(ctx context.Context, ev sealog.Event) (sealog.Receipt, error) {
	rs, err := f.AppendBatch(ctx, []sealog.Event{ev})
	if err != nil {
		return sealog.Receipt{}, err
	}
	return rs[0], nil
}

func (f *failing) AppendBatch(ctx context.Context, evs []sealog.Event) ([]sealog.Receipt, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.overloaded > 0 {
		f.overloaded--
		return nil, sealog.ErrOverloaded
	}
	if f.err != nil {
		return nil, f.err
	}
	f.appended = append(f.appended, evs...)
	return make([]sealog.Receipt, len(evs)), nil
}

// TestFailurePolicy: failures are counted and reported, never silent;
// Block waits out an overloaded log.
func TestFailurePolicy(t *testing.T) {
	for _, tc := range []struct {
		name       string
		opts       sealslog.Options
		overloaded int
		err        error
		sealed     int64
		wantErr    error
	}{
		{name: "error", err: errors.New("disk on fire"), wantErr: nil},
		{name: "overloaded, no block", overloaded: 1, wantErr: sealog.ErrOverloaded},
		{name: "overloaded, block", overloaded: 3, opts: sealslog.Options{Block: 10 * time.Second}, sealed: 1},
		{name: "overloaded past block", overloaded: 1 << 30, opts: sealslog.Options{Block: 20 * time.Millisecond}, wantErr: sealog.ErrOverloaded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &failing{overloaded: tc.overloaded, err: tc.err}
			var reported []error
			var mu sync.Mutex
			tc.opts.OnError = func(err error, r slog.Record) {
				mu.Lock()
				defer mu.Unlock()
				if r.Message != "audit.event" {
					t.Errorf("reported record %q", r.Message)
				}
				reported = append(reported, err)
			}
			h := sealslog.New(a, &tc.opts)
			err := h.Handle(context.Background(), slog.NewRecord(time.Now(), slog.LevelInfo, "audit.event", 0))
			s := h.Stats()
			if s.Sealed != tc.sealed || s.Sealed+s.Failed != 1 {
				t.Errorf("stats %+v", s)
			}
			if tc.sealed == 1 {
				if err != nil || len(reported) != 0 {
					t.Errorf("err %v, reported %v", err, reported)
				}
				return
			}
			if err == nil || len(reported) != 1 || !errors.Is(err, reported[0]) {
				t.Errorf("Handle: %v, reported %v", err, reported)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("Handle: %v, want %v", err, tc.wantErr)
			}
		})
	}
}

// TestAsync queues records, appends them in batches, drains at Close,
// and reports a full queue.
func TestAsync(t *testing.T) {
	l, _ := itest.Open(t)
	var late []error
	h := sealslog.New(l, &sealslog.Options{Async: true, Block: time.Minute, OnError: func(err error, r slog.Record) { late = append(late, err) }})
	lg := slog.New(h)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				lg.Info("async.record", "g", g, "i", i)
			}
		}()
	}
	wg.Wait()
	if err := h.Close(itest.Context(t)); err != nil {
		t.Fatal(err)
	}
	if s := h.Stats(); s.Sealed != 400 || s.Failed != 0 {
		t.Errorf("stats %+v", s)
	}
	es := itest.Entries(t, l)
	if len(es) != 400 {
		t.Fatalf("%d entries", len(es))
	}
	seen := map[string]bool{}
	for _, e := range es {
		seen[string(e.Payload[bytes.Index(e.Payload, []byte(`"g"`)):])] = true
	}
	if len(seen) != 400 {
		t.Errorf("%d distinct records", len(seen))
	}
	if err := h.Handle(context.Background(), slog.NewRecord(time.Now(), slog.LevelInfo, "late", 0)); !errors.Is(err, sealslog.ErrClosed) || len(late) != 1 {
		t.Errorf("after Close: %v, reported %v", err, late)
	}
}

// blocking is an Appender whose appends wait until released.
type blocking struct {
	entered atomic.Int32 // appends waiting
	release chan struct{}
	n       int
	mu      sync.Mutex
}

func (b *blocking) Append(ctx context.Context, ev sealog.Event) (sealog.Receipt, error) {
	rs, err := b.AppendBatch(ctx, []sealog.Event{ev})
	if err != nil {
		return sealog.Receipt{}, err
	}
	return rs[0], nil
}

func (b *blocking) AppendBatch(ctx context.Context, evs []sealog.Event) ([]sealog.Receipt, error) {
	b.entered.Add(1)
	<-b.release
	b.mu.Lock()
	b.n += len(evs)
	b.mu.Unlock()
	return make([]sealog.Receipt, len(evs)), nil
}

func TestAsyncQueueFull(t *testing.T) {
	b := &blocking{release: make(chan struct{})}
	var dropped []string
	h := sealslog.New(b, &sealslog.Options{Async: true, QueueSize: 2, OnError: func(err error, r slog.Record) {
		if !errors.Is(err, sealslog.ErrQueueFull) {
			t.Errorf("reason %v", err)
		}
		dropped = append(dropped, r.Message)
	}})
	lg := slog.New(h)
	// Two records are taken by the two drain goroutines (blocked), two
	// fill the queue; from then on records fail at once.
	for i, r := range []string{"r0", "r1"} {
		lg.Info(r)
		testkit.Eventually(t, time.Minute, "a drainer blocked on "+r, func() bool { return b.entered.Load() == int32(i+1) })
	}
	for i := range 5 {
		lg.Info("r" + string(rune('2'+i)))
	}
	if s := h.Stats(); s.Failed != 3 || len(dropped) != 3 || dropped[0] != "r4" {
		t.Errorf("stats %+v, dropped %v", s, dropped)
	}
	close(b.release)
	if err := h.Close(itest.Context(t)); err != nil {
		t.Fatal(err)
	}
	if s := h.Stats(); s.Sealed != 4 || b.n != 4 {
		t.Errorf("stats %+v, appended %d", s, b.n)
	}
}
