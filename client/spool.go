package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/internal/durable"
)

// ErrSpoolFull is returned by AppendOrSpool when the server cannot be
// reached and the spool holds Config.SpoolMaxBytes already.
var ErrSpoolFull = errors.New("client: the spool is full and the server cannot be reached")

// spool is a directory of batches waiting to be sent, one file each,
// named by a sequence number so that they are sent in order. A batch is
// written durably, with its idempotency key, before AppendOrSpool
// returns; it is removed once the server acknowledged it, so a crash in
// between sends it again, with the same key: never lost, never appended
// twice (while the server remembers the key: 24 hours by default).
type spool struct {
	dir   string
	limit int64

	mu    sync.Mutex // guards next, bytes, files; held while a batch is sent
	next  uint64
	bytes int64
	files []string // waiting, in order
}

// spooledBatch is one spool file.
type spooledBatch struct {
	Key    string            `json:"key"`
	Events []json.RawMessage `json:"events"` // canonical encodings
}

func openSpool(dir string, limit int64) (*spool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("client: spool: %w", err)
	}
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("client: spool: %w", err)
	}
	s := &spool{dir: dir, limit: limit}
	for _, de := range des {
		n, ok := strings.CutSuffix(de.Name(), ".json")
		seq, err := strconv.ParseUint(n, 10, 64)
		if !ok || err != nil || len(n) != 20 {
			continue // temporary files of an interrupted write, and others
		}
		fi, err := de.Info()
		if err != nil {
			return nil, fmt.Errorf("client: spool: %w", err)
		}
		s.files = append(s.files, de.Name())
		s.bytes += fi.Size()
		s.next = max(s.next, seq+1)
	}
	sort.Strings(s.files)
	return s, nil
}

// add writes a batch to the spool, durably.
func (s *spool) add(key string, canon [][]byte) error {
	b := spooledBatch{Key: key, Events: make([]json.RawMessage, len(canon))}
	for i, c := range canon {
		b.Events[i] = c
	}
	data, _ := json.Marshal(b)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bytes+int64(len(data)) > s.limit {
		return ErrSpoolFull
	}
	name := fmt.Sprintf("%020d.json", s.next)
	if err := durable.WriteFile(filepath.Join(s.dir, name), data, 0o600); err != nil {
		return fmt.Errorf("client: spool: %w", err)
	}
	s.next++
	s.files = append(s.files, name)
	s.bytes += int64(len(data))
	return nil
}

// pending returns the number of batches waiting.
func (s *spool) pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.files)
}

// AppendOrSpool is AppendBatch that, when the server cannot be reached
// (ErrUnreachable), keeps the events in the local spool (Config.SpoolDir)
// instead of failing, and returns spooled true and no receipts. While
// batches wait in the spool, later ones are spooled behind them, so that
// the log gets them in order. Flush and the background sender (every
// Config.SpoolInterval) send them, each with the idempotency key it was
// spooled with; their receipts, checked as AppendBatch checks them, go to
// Config.OnSpooled. A full spool is ErrSpoolFull.
func (c *Client) AppendOrSpool(ctx context.Context, evs []sealog.Event) (rs []sealog.Receipt, spooled bool, err error) {
	if c.spool == nil {
		return nil, false, errors.New("client: AppendOrSpool needs Config.SpoolDir")
	}
	if len(evs) == 0 {
		return nil, false, nil
	}
	canon, body, err := encodeEvents(evs)
	if err != nil {
		return nil, false, err
	}
	key, err := c.newKey()
	if err != nil {
		return nil, false, err
	}
	// Events spooled earlier go first: while some wait, these wait
	// behind them, for Flush or the background sender.
	if c.spool.pending() > 0 {
		return nil, true, c.spool.add(key, canon)
	}
	rs, err = c.send(ctx, key, canon, body)
	if errors.Is(err, ErrUnreachable) {
		return nil, true, c.spool.add(key, canon)
	}
	return rs, false, err
}

// Spooled returns the number of batches in the spool.
func (c *Client) Spooled() int {
	if c.spool == nil {
		return 0
	}
	return c.spool.pending()
}

// Flush sends the spooled batches in order and returns when the spool is
// empty, or with the error that stopped it (ErrUnreachable while the
// server is down). A batch the server refuses (a 4xx other than 429) is
// moved to SpoolDir/rejected, reported to Config.Logger, and skipped.
func (c *Client) Flush(ctx context.Context) error {
	s := c.spool
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.files) > 0 {
		name := s.files[0]
		path := filepath.Join(s.dir, name)
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("client: spool: %w", err)
		}
		var b spooledBatch
		if err := json.Unmarshal(data, &b); err != nil || b.Key == "" || len(b.Events) == 0 {
			return fmt.Errorf("client: spool file %s is malformed", path)
		}
		canon := make([][]byte, len(b.Events))
		body := []byte{'['}
		for i, e := range b.Events {
			canon[i] = e
			if i > 0 {
				body = append(body, ',')
			}
			body = append(body, e...)
		}
		body = append(body, ']')
		rs, err := c.send(ctx, b.Key, canon, body)
		var ae *APIError
		switch {
		case errors.As(err, &ae) && ae.Status/100 == 4 && ae.Status != 429:
			c.log.Error("the server refused a spooled batch; it is kept in the rejected folder", "file", name, "err", err)
			if err := os.MkdirAll(filepath.Join(s.dir, "rejected"), 0o700); err != nil {
				return fmt.Errorf("client: spool: %w", err)
			}
			if err := os.Rename(path, filepath.Join(s.dir, "rejected", name)); err != nil {
				return fmt.Errorf("client: spool: %w", err)
			}
		case err != nil:
			return err
		default:
			if c.cfg.OnSpooled != nil {
				c.cfg.OnSpooled(rs)
			}
			if err := os.Remove(path); err != nil {
				return fmt.Errorf("client: spool: %w", err)
			}
		}
		durable.SyncDir(s.dir)
		s.files = s.files[1:]
		s.bytes -= int64(len(data))
	}
	return nil
}

// drain is the background sender: it flushes the spool every interval
// until stop is closed.
func (c *Client) drain(interval time.Duration, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		if c.spool.pending() == 0 {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if err := c.Flush(ctx); err != nil && !errors.Is(err, ErrUnreachable) {
			c.log.Warn("sending the spool failed", "err", err)
		}
		cancel()
	}
}
