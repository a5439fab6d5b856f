package storeopen

import (
	"bufio"
	"context"
	"fmt"
	"io"

	"github.com/sealog/sealog/store"
)

// Dumper is a store that can hand over its stored lines as they are,
// without checking them against its head or its hashes: store/postgres
// and store/sqlite, whose rows anyone with SQL access can change.
type Dumper interface {
	// DumpLines calls fn with the line of every stored entry, in the order
	// of the store's seq column, whether or not the head covers it.
	DumpLines(ctx context.Context, fn func(line []byte) error) error
}

// Lines returns the stored lines of st, each followed by a newline, as
// one stream: the bytes a log directory's segments would hold, for a
// verifier (which must treat them as untrusted) or an export. For a
// Dumper they are every stored line, as stored; for another store, the
// committed lines up to its head now. Closing the reader stops the
// reading.
func Lines(ctx context.Context, st store.Store) io.ReadCloser {
	ctx, cancel := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	go func() {
		defer cancel()
		bw := bufio.NewWriterSize(pw, 64<<10)
		write := func(line []byte) error {
			bw.Write(line)
			return bw.WriteByte('\n')
		}
		var err error
		if d, ok := st.(Dumper); ok {
			err = d.DumpLines(ctx, write)
		} else {
			var (
				h     store.Head
				first uint64 // a pruned log's lines start at its prune point
			)
			if pr, ok := st.(store.Pruner); ok {
				if p, perr := pr.Pruned(ctx); perr == nil && p != nil {
					first = p.Below
				}
			}
			if h, err = st.Head(ctx); err == nil {
				err = st.ReadLines(ctx, first, h.Size, func(l store.Line) error { return write(l.Bytes) })
			}
		}
		if err == nil {
			err = bw.Flush()
		}
		if err != nil {
			err = fmt.Errorf("storeopen: reading the stored lines: %w", err)
		}
		pw.CloseWithError(err)
	}()
	return &lineReader{pr, cancel}
}

type lineReader struct {
	*io.PipeReader
	cancel context.CancelFunc
}

func (r *lineReader) Close() error {
	r.cancel()
	return r.PipeReader.Close()
}
