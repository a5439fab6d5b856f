package recorder_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/integrations/internal/itest"
	"github.com/sealog/sealog/integrations/internal/recorder"
)

// picky fails any batch holding an event of kind "bad", as the log
// fails a whole batch for one bad event.
type picky struct {
	mu  sync.Mutex
	got []string
}

func (p *picky) Append(ctx context.Context, ev sealog.Event) (sealog.Receipt, error) {
	_, err := p.AppendBatch(ctx, []sealog.Event{ev})
	return sealog.Receipt{}, err
}

func (p *picky) AppendBatch(ctx context.Context, evs []sealog.Event) ([]sealog.Receipt, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, ev := range evs {
		if ev.Kind == "bad" {
			return nil, errors.New("bad event")
		}
	}
	for _, ev := range evs {
		p.got = append(p.got, ev.Kind)
	}
	return make([]sealog.Receipt, len(evs)), nil
}

// TestOneBadEvent: a bad event fails alone, not the batch it was queued
// with.
func TestOneBadEvent(t *testing.T) {
	p := &picky{}
	var failed []string
	r := recorder.New(recorder.Config{Appender: p, Block: time.Minute, Logger: itest.DiscardLogger(),
		OnError: func(err error, ev sealog.Event) { failed = append(failed, ev.Kind) }})
	for i := range 100 {
		kind := "good"
		if i == 50 {
			kind = "bad"
		}
		r.Enqueue(sealog.Event{Kind: kind})
	}
	if err := r.Close(itest.Context(t)); err != nil {
		t.Fatal(err)
	}
	if s := r.Stats(); s.Sealed != 99 || s.Failed != 1 || len(p.got) != 99 || len(failed) != 1 || failed[0] != "bad" {
		t.Errorf("stats %+v, appended %d, failed %v", s, len(p.got), failed)
	}
	// After Close, events fail, reported.
	r.Enqueue(sealog.Event{Kind: "late"})
	if _, err := r.Seal(context.Background(), sealog.Event{Kind: "late"}); !errors.Is(err, recorder.ErrClosed) {
		t.Errorf("Seal after Close: %v", err)
	}
	if len(failed) != 3 {
		t.Errorf("failed %v", failed)
	}
}

// TestSealOverloaded: Seal waits out an overloaded log for at most Block.
func TestSealOverloaded(t *testing.T) {
	l, _ := itest.Open(t)
	r := recorder.New(recorder.Config{Appender: l, Block: time.Minute, Logger: itest.DiscardLogger()})
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // a cancelled caller's record is still made
	if _, err := r.Seal(ctx, sealog.Event{Kind: "k"}); err != nil {
		t.Fatal(err)
	}
	if s := r.Stats(); s.Sealed != 1 {
		t.Errorf("stats %+v", s)
	}
	r.Close(itest.Context(t))
}

// FuzzClientIP: whatever the headers say, the answer is the peer's host
// when the peer is not a trusted proxy, and otherwise the peer or an
// address the header holds.
func FuzzClientIP(f *testing.F) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	f.Add("10.0.0.1:80", "203.0.113.5, 10.0.0.2")
	f.Add("[::1]:1", "garbage,,, ::ffff:1.2.3.4")
	f.Add("198.51.100.1:80", "1.2.3.4")
	f.Add("nonsense", "")
	f.Fuzz(func(t *testing.T, peer, xff string) {
		headers := strings.Split(xff, "\n")
		got := recorder.ClientIP(peer, headers, trusted)
		host, _, err := net.SplitHostPort(peer)
		if err != nil {
			host = peer
		}
		pa, err := netip.ParseAddr(host)
		isTrusted := err == nil && (trusted[0].Contains(pa.Unmap()) || trusted[1].Contains(pa.Unmap()))
		if !isTrusted {
			if got != host {
				t.Fatalf("untrusted peer %q: got %q", peer, got)
			}
			return
		}
		ok := got == pa.Unmap().String()
		for _, h := range headers {
			for _, part := range strings.Split(h, ",") {
				if a, err := netip.ParseAddr(strings.TrimSpace(part)); err == nil && a.Unmap().String() == got {
					ok = true
				}
			}
		}
		if !ok {
			t.Fatalf("ClientIP(%q, %q) = %q: neither the peer nor an address in the header", peer, headers, got)
		}
	})
}
