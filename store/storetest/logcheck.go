package storetest

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/tree"
)

// CheckLog reads the whole log in s as a verifier would and fails the
// test unless it has no gap and no fork: every line parses, has its seq,
// chains to the one before by prev, hashes to the leaf the store gives,
// and the tree of all the leaves has the root that the head's checkpoint
// signs (with vkey). It returns the leaf hash of every entry.
func CheckLog(t testing.TB, ctx context.Context, s store.Store, vkey string) []tlog.Hash {
	t.Helper()
	h, err := s.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var (
		leaves []tlog.Hash
		edge   tree.Edge
		prev   tlog.Hash
	)
	err = s.ReadLines(ctx, 0, h.Size, func(l store.Line) error {
		seq := uint64(len(leaves))
		p, err := format.ParseLine(l.Bytes)
		switch {
		case err != nil:
			return fmt.Errorf("entry %d: %w", seq, err)
		case l.Seq != seq || p.Seq != seq:
			return fmt.Errorf("entry %d: ReadLines gave seq %d, the line says %d", seq, l.Seq, p.Seq)
		case p.Prev != prev:
			return fmt.Errorf("entry %d: prev %x, but entry %d's leaf is %x: a fork or a gap", seq, p.Prev, seq-1, prev)
		}
		hdr := p.Header()
		leaf := hdr.LeafHash()
		if leaf != l.Leaf {
			return fmt.Errorf("entry %d: the line hashes to leaf %x, the store holds %x", seq, leaf, l.Leaf)
		}
		edge.Append(leaf, nil)
		leaves, prev = append(leaves, leaf), leaf
		return nil
	})
	if err != nil {
		t.Fatalf("reading the log back: %v", err)
	}
	if uint64(len(leaves)) != h.Size {
		t.Fatalf("the log has %d entries below a head of %d", len(leaves), h.Size)
	}
	if h.Size == 0 {
		return leaves
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := checkpoint.Open(h.Checkpoint, note.VerifierList(v), v.Name())
	if err != nil {
		t.Fatalf("the head's checkpoint: %v", err)
	}
	if c.Size != h.Size || c.Root != edge.Root() {
		t.Fatalf("the head's checkpoint signs size %d, root %x; the lines give size %d, root %x", c.Size, c.Root, h.Size, edge.Root())
	}
	if h.LastLeaf != prev {
		t.Fatalf("the head's last leaf is %x, the last line's %x", h.LastLeaf, prev)
	}
	return leaves
}

// Ack is an acknowledged append: the seq and leaf hash of its receipt.
type Ack struct {
	Seq  uint64
	Leaf tlog.Hash
}

// AckWriter records acknowledgements in a file, one "seq leafhex" line
// each, and fsyncs the file after each group it writes.
type AckWriter struct {
	// Acks takes each acknowledgement to record.
	Acks chan Ack
	done chan error
}

// NewAckWriter starts recording acknowledgements in the file at path
// (appended to, created if missing).
func NewAckWriter(path string) (*AckWriter, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	w := &AckWriter{Acks: make(chan Ack, 4096), done: make(chan error, 1)}
	go func() {
		bw := bufio.NewWriter(f)
		var err error
		for a := range w.Acks {
			fmt.Fprintf(bw, "%d %x\n", a.Seq, a.Leaf[:])
			for more := true; more; {
				select {
				case a, ok := <-w.Acks:
					if !ok {
						more = false
						break
					}
					fmt.Fprintf(bw, "%d %x\n", a.Seq, a.Leaf[:])
				default:
					more = false
				}
			}
			if err == nil {
				err = bw.Flush()
			}
			if err == nil {
				err = f.Sync()
			}
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		w.done <- err
	}()
	return w, nil
}

// Close writes what is left and closes the file.
func (w *AckWriter) Close() error {
	close(w.Acks)
	return <-w.done
}

// ReadAcks reads an ack file; a torn last line (the writer was killed) is
// skipped.
func ReadAcks(t testing.TB, path string) []Ack {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []Ack
	for line := range strings.Lines(string(b)) {
		seqS, leafS, ok := strings.Cut(strings.TrimSuffix(line, "\n"), " ")
		seq, err := strconv.ParseUint(seqS, 10, 64)
		leaf, herr := hex.DecodeString(leafS)
		if !ok || err != nil || herr != nil || len(leaf) != tlog.HashSize || !strings.HasSuffix(line, "\n") {
			continue
		}
		a := Ack{Seq: seq}
		copy(a.Leaf[:], leaf)
		out = append(out, a)
	}
	return out
}

// CheckAcks fails the test unless every acknowledged entry is in the log
// with its leaf hash.
func CheckAcks(t testing.TB, leaves []tlog.Hash, acks []Ack) {
	t.Helper()
	seen := make(map[uint64]bool, len(acks))
	for _, a := range acks {
		if seen[a.Seq] {
			t.Fatalf("entry %d was acknowledged twice", a.Seq)
		}
		seen[a.Seq] = true
		if a.Seq >= uint64(len(leaves)) {
			t.Fatalf("acknowledged entry %d is missing: the log has %d entries", a.Seq, len(leaves))
		}
		if leaves[a.Seq] != a.Leaf {
			t.Fatalf("acknowledged entry %d has leaf %x in the log, %x in its receipt", a.Seq, leaves[a.Seq], a.Leaf)
		}
	}
}
