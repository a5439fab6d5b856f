package main

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// progress draws a progress bar on a terminal, once an operation has run
// for more than a second. A nil *progress does nothing.
type progress struct {
	w     io.Writer
	label string
	start time.Time

	mu    sync.Mutex
	last  time.Time
	shown bool
}

func newProgress(w io.Writer, label string) *progress {
	return &progress{w: w, label: label, start: time.Now()}
}

// update is a verify.Options.Progress callback.
func (p *progress) update(done, total int64) {
	if p == nil {
		return
	}
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if now.Sub(p.start) < time.Second || now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last, p.shown = now, true
	pct := 0.0
	if total > 0 {
		pct = float64(done) / float64(total)
	}
	const width = 30
	n := int(pct * width)
	bar := make([]byte, width)
	for i := range bar {
		if i < n {
			bar[i] = '#'
		} else {
			bar[i] = '.'
		}
	}
	rate := float64(done) / now.Sub(p.start).Seconds() / (1 << 20)
	fmt.Fprintf(p.w, "\r%s [%s] %3.0f%%  %.0f MiB/s ", p.label, bar, pct*100, rate)
}

// finish clears the bar if it was drawn.
func (p *progress) finish() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprintf(p.w, "\r%*s\r", len(p.label)+60, "")
	}
}
