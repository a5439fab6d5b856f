//go:build unix

package file

import (
	"bytes"
	"os"
	"path/filepath"
	"time"

	"github.com/sealog/sealog/layout"
)

// publisher rewrites the checkpoint file after batches, in the background
// and throttled: the first batch after a quiet spell is published at once,
// later ones at most every publishInterval, always the newest. (Creating
// and renaming a file per batch would cost more CPU than the batch, and
// its metadata would slow every fsync.) It does not fsync (the entries and their signature are already
// durable in the segment, and recovery rewrites the file); Close writes it
// durably.
type publisher struct {
	s    *Store
	wake chan struct{}
	done chan struct{}
	last []byte
	err  error
}

func startPublisher(s *Store) *publisher {
	p := &publisher{s: s, wake: make(chan struct{}, 1), done: make(chan struct{})}
	p.last = s.head.Checkpoint
	go p.run()
	return p
}

func (p *publisher) publish() {
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
		ck := p.s.headNow().Checkpoint
		if ck == nil || bytes.Equal(ck, p.last) {
			continue
		}
		if err := writeReplace(path, ck); err != nil {
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
	close(p.wake)
	<-p.done
	return p.err
}

// writeReplace replaces path with data by rename, without fsync.
func writeReplace(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".checkpoint.tmp*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
