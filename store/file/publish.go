//go:build unix

package file

import (
	"bytes"
	"path/filepath"
	"sync"
	"time"

	"github.com/sealog/sealog/internal/durable"
	"github.com/sealog/sealog/layout"
)

// publisher rewrites the checkpoint file after batches, in the background
// and throttled: the first batch after a quiet spell is published at once,
// later ones at most every publishInterval, always the newest. (Creating
// and renaming a file per batch would cost more CPU than the batch, and
// its metadata would slow every fsync.) Each version goes through
// durable.WriteFile (temporary file, fsync, rename, fsync of the
// directory): the file is a convenience copy of the newest signature in
// the segments, but readers take it as the log's checkpoint, so a power
// cut must leave the old version or the new one, never a malformed file.
// It never runs ahead of durable entries (Append sets the head after the
// fdatasync), and stops once the store is poisoned.
type publisher struct {
	s    *Store
	wake chan struct{}
	done chan struct{}
	last []byte
	err  error

	mu      sync.Mutex // a leaf: guards stopped and the closing of wake
	stopped bool
}

func startPublisher(s *Store) *publisher {
	p := &publisher{s: s, wake: make(chan struct{}, 1), done: make(chan struct{})}
	p.last = s.head.Checkpoint
	go p.run()
	return p
}

// publish wakes the publisher. A wait that syncs a staged batch may call
// it while Close stops the publisher (it holds syncMu, not writeMu):
// after stop it does nothing.
func (p *publisher) publish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// publishInterval is the longest the checkpoint file lags the log under
// continuous load.
const publishInterval = 100 * time.Millisecond

func (p *publisher) run() {
	defer close(p.done)
	path := filepath.Join(p.s.dir, layout.CheckpointFile)
	var lastWrite time.Time
	for range p.wake {
		if d := time.Since(lastWrite); d < publishInterval {
			time.Sleep(publishInterval - d)
		}
		lastWrite = time.Now()
		p.s.mu.RLock()
		ck, poisoned := p.s.head.Checkpoint, p.s.poisoned
		p.s.mu.RUnlock()
		if ck == nil || bytes.Equal(ck, p.last) || poisoned != nil {
			continue
		}
		if err := durable.WriteFile(path, ck, 0o644); err != nil {
			if p.err == nil {
				p.s.log.Warn("writing the checkpoint file failed", "error", err)
			}
			p.err = err
			continue
		}
		p.last, p.err = ck, nil
	}
}

// stop ends the publisher and returns its last error, if the last write
// failed.
func (p *publisher) stop() error {
	p.mu.Lock()
	p.stopped = true
	close(p.wake)
	p.mu.Unlock()
	<-p.done
	return p.err
}
