package auditor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/client"
	"github.com/sealog/sealog/store"
	storeopen "github.com/sealog/sealog/store/open"
	"github.com/sealog/sealog/verify"
)

// A log is read through a snapshot: a verify.Source over its lines, the
// checkpoint the log hands out (the bytes the verifier checked, which the
// auditor trusts next if they hold) and, when consistency fails, the
// log's own consistency proof between two sizes, kept as evidence.
type snapshot struct {
	src verify.Source
	// checkpoint returns the log's checkpoint that the verifier was given
	// (nil if it has none); call it after verify.Verify.
	checkpoint func() []byte
	// proof returns the log's consistency proof from size old to size new.
	proof func(ctx context.Context, old, new uint64) (tlog.TreeProof, error)
	close func()
}

// Kinds of log names (Log.Name).
const (
	KindDir      = "dir"
	KindDatabase = "database"
	KindServer   = "server"
)

// kindOf classifies a log name: an http(s) URL is a server, a
// postgres(ql):// or sqlite: URL a database, anything else a directory.
func kindOf(name string) (string, error) {
	if strings.HasPrefix(name, "http://") || strings.HasPrefix(name, "https://") {
		return KindServer, nil
	}
	loc, err := storeopen.Parse(name)
	if err != nil {
		return "", err
	}
	if loc.Kind == storeopen.File {
		return KindDir, nil
	}
	return KindDatabase, nil
}

// open opens a snapshot of the log, read-only.
func (a *Auditor) open(ctx context.Context, l *Log, v note.Verifier, keys []client.TrustedKey) (*snapshot, error) {
	switch l.kind {
	case KindServer:
		return a.openServer(ctx, l, v, keys)
	case KindDatabase:
		return openDatabase(ctx, l)
	}
	return openDir(l), nil
}

// openDir reads a log directory as `sealog verify` does, remembering the
// checkpoint file the verifier read.
func openDir(l *Log) *snapshot {
	src := &cachedCheckpoint{Source: verify.Dir(l.Name)}
	return &snapshot{
		src:        src,
		checkpoint: func() []byte { return src.b },
		proof: func(ctx context.Context, old, new uint64) (tlog.TreeProof, error) {
			st, err := storeopen.Open(ctx, l.Name, storeopen.Options{ReadOnly: true, NoCreate: true})
			if err != nil {
				return nil, err
			}
			defer st.Close()
			return tlog.ProveTree(int64(new), int64(old), store.HashReader(ctx, st))
		},
		close: func() {},
	}
}

// cachedCheckpoint is a Source that keeps the checkpoint file it read.
type cachedCheckpoint struct {
	verify.Source
	b []byte
}

func (c *cachedCheckpoint) Checkpoint() ([]byte, error) {
	b, err := c.Source.Checkpoint()
	c.b = b
	return b, err
}

// openDatabase opens a database store read-only and reads it as
// storeopen.Source does: the head's checkpoint first, then every stored
// row, unchecked by the store.
func openDatabase(ctx context.Context, l *Log) (*snapshot, error) {
	st, err := storeopen.Open(ctx, l.Name, storeopen.Options{ReadOnly: true, NoCreate: true})
	if err != nil {
		return nil, err
	}
	src := &cachedCheckpoint{Source: storeopen.Source(ctx, st, l.id)}
	return &snapshot{
		src:        src,
		checkpoint: func() []byte { return src.b },
		proof: func(ctx context.Context, old, new uint64) (tlog.TreeProof, error) {
			return tlog.ProveTree(int64(new), int64(old), store.HashReader(ctx, st))
		},
		close: func() { st.Close() },
	}, nil
}

// openServer fetches a server's checkpoint, checked with the pinned key
// or a key the client follows the log's rotations to from the chain kept
// (keys), and streams the lines it covers.
func (a *Auditor) openServer(ctx context.Context, l *Log, v note.Verifier, keys []client.TrustedKey) (*snapshot, error) {
	hc := a.cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: a.cfg.Timeout}
	}
	c, err := client.New(client.Config{URL: l.Name, Token: l.Token, VerifierKey: l.Key, Keys: keys, HTTPClient: hc, MaxAttempts: 3, Logger: a.log})
	if err != nil {
		return nil, err
	}
	ck, b, err := c.Checkpoint(ctx)
	if err != nil {
		c.Close()
		var ae *client.APIError
		var ce *client.ConsistencyError
		if errors.As(err, &ae) || errors.As(err, &ce) || errors.Is(err, client.ErrUnreachable) || ctx.Err() != nil {
			return nil, err
		}
		// It answered a checkpoint, and not one the key signed.
		return nil, &wrongKeyError{err}
	}
	return &snapshot{
		src: &streamSource{origin: v.Name(), key: l.Key, ckpt: b, open: func() (io.ReadCloser, error) {
			pr, pw := io.Pipe()
			ctx, cancel := context.WithCancel(ctx)
			go func() {
				defer cancel()
				err := c.Lines(ctx, 0, ck.Size, func(_ uint64, line []byte) error {
					if _, err := pw.Write(line); err != nil {
						return err
					}
					_, err := pw.Write([]byte{'\n'})
					return err
				})
				pw.CloseWithError(err)
			}()
			return &pipeReader{pr, cancel}, nil
		}},
		checkpoint: func() []byte { return b },
		proof:      c.ConsistencyProof,
		close:      func() { c.Close() },
	}, nil
}

// wrongKeyError is a server checkpoint not signed by the pinned key, nor
// by a key a valid rotation record hands the log over to.
type wrongKeyError struct{ err error }

func (e *wrongKeyError) Error() string {
	return fmt.Sprintf("the server's checkpoint is not signed by the key given: %v", e.err)
}
func (e *wrongKeyError) Unwrap() error { return e.err }

type pipeReader struct {
	*io.PipeReader
	cancel context.CancelFunc
}

func (r *pipeReader) Close() error {
	r.cancel()
	return r.PipeReader.Close()
}

// streamSource is a verify.Source over a server's entries, as one
// segment named "entries". The server serves whole batches up to its
// checkpoint, so the segment is atomic: entries no signature covers are
// tampering, not a crash's remnant.
type streamSource struct {
	origin, key string
	ckpt        []byte
	open        func() (io.ReadCloser, error)
}

func (s *streamSource) Metadata() (string, string, error) { return s.origin, s.key, nil }
func (s *streamSource) Segments() ([]verify.Segment, error) {
	return []verify.Segment{{Name: "entries", First: 0, Atomic: true, Open: s.open}}, nil
}
func (s *streamSource) Checkpoint() ([]byte, error) { return s.ckpt, nil }
func (s *streamSource) Live() bool                  { return false }
func (s *streamSource) Warnings() []string          { return nil }
func (s *streamSource) Damage() []string            { return nil }
