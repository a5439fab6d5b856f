package server_test

// This file is an independent C2SP tiled-log client, built only on the
// standard library and golang.org/x/mod's note and tlog packages: it
// reads /checkpoint, verifies its signature, recomputes the root from the
// tiles, and checks every entry of the entry bundles and some proofs. It
// uses package sealog and server only to set up the log.

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/server"
)

// c2spClient reads a tiled log at base with a bearer token.
type c2spClient struct {
	t        *testing.T
	base     string
	token    string
	verifier note.Verifier
	fetched  map[string][]byte // tiles fetched, by path: a client's cache
}

func (c *c2spClient) get(path string) (int, http.Header, []byte) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", c.base+"/"+path, nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// checkpoint fetches and verifies the checkpoint: origin, size, root.
func (c *c2spClient) checkpoint() tlog.Tree {
	code, h, b := c.get("checkpoint")
	if code != 200 || h.Get("Content-Type") != "text/plain; charset=utf-8" {
		c.t.Fatalf("checkpoint: %d %s", code, h.Get("Content-Type"))
	}
	n, err := note.Open(b, note.VerifierList(c.verifier))
	if err != nil {
		c.t.Fatalf("checkpoint signature: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[0] != c.verifier.Name() {
		c.t.Fatalf("checkpoint text %q", n.Text)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		c.t.Fatal(err)
	}
	root, err := tlog.ParseHash(lines[2])
	if err != nil {
		c.t.Fatal(err)
	}
	return tlog.Tree{N: size, Hash: root}
}

// tilePath is the C2SP path of a tile (level -1: an entry bundle).
func tilePath(level int, n int64, w int) string {
	s := fmt.Sprintf("%03d", n%1000)
	for n >= 1000 {
		n /= 1000
		s = fmt.Sprintf("x%03d/%s", n%1000, s)
	}
	l := strconv.Itoa(level)
	if level < 0 {
		l = "entries"
	}
	p := "tile/" + l + "/" + s
	if w < 256 {
		p += ".p/" + strconv.Itoa(w)
	}
	return p
}

// Height, ReadTiles and SaveTiles make c a tlog.TileReader.
func (c *c2spClient) Height() int { return 8 }

func (c *c2spClient) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		p := tilePath(t.L, t.N, t.W)
		if b, ok := c.fetched[p]; ok {
			out[i] = b
			continue
		}
		code, h, b := c.get(p)
		if code != 200 {
			return nil, fmt.Errorf("%s: %d %s", p, code, b)
		}
		if h.Get("Content-Type") != "application/octet-stream" || !strings.Contains(h.Get("Cache-Control"), "immutable") {
			return nil, fmt.Errorf("%s: headers %v", p, h)
		}
		c.fetched[p] = b
		out[i] = b
	}
	return out, nil
}

func (c *c2spClient) SaveTiles([]tlog.Tile, [][]byte) {}

// verifyAll checks the log as a C2SP client: the root from the tiles, every
// entry bundle entry against its leaf hash, and proofs.
func (c *c2spClient) verifyAll() tlog.Tree {
	tree := c.checkpoint()
	hr := tlog.TileHashReader(tree, c)
	root, err := tlog.TreeHash(tree.N, hr)
	if err != nil || root != tree.Hash {
		c.t.Fatalf("size %d: the root from the tiles: %v", tree.N, err)
	}
	for first := int64(0); first < tree.N; first += 256 {
		w := int(min(256, tree.N-first))
		code, _, b := c.get(tilePath(-1, first/256, w))
		if code != 200 {
			c.t.Fatalf("bundle %d: %d", first/256, code)
		}
		idx := make([]int64, w)
		for i := range idx {
			idx[i] = tlog.StoredHashIndex(0, first+int64(i))
		}
		leaves, err := hr.ReadHashes(idx)
		if err != nil {
			c.t.Fatal(err)
		}
		for i := range int64(w) {
			if len(b) < 2 {
				c.t.Fatalf("bundle %d is short", first/256)
			}
			n := int(binary.BigEndian.Uint16(b))
			entry := b[2 : 2+n]
			b = b[2+n:]
			if tlog.RecordHash(entry) != leaves[i] {
				c.t.Fatalf("entry %d of the bundle does not hash to its leaf", first+i)
			}
			if n != 81 || entry[0] != 1 || int64(binary.BigEndian.Uint64(entry[1:])) != first+i {
				c.t.Fatalf("entry %d is not a version-1 leaf header for its seq", first+i)
			}
		}
		if len(b) != 0 {
			c.t.Fatalf("bundle %d has %d bytes too many", first/256, len(b))
		}
	}
	for _, seq := range []int64{0, tree.N / 2, tree.N - 1} {
		p, err := tlog.ProveRecord(tree.N, seq, hr)
		if err != nil {
			c.t.Fatal(err)
		}
		leaf, _ := hr.ReadHashes([]int64{tlog.StoredHashIndex(0, seq)})
		if err := tlog.CheckRecord(p, tree.N, tree.Hash, seq, leaf[0]); err != nil {
			c.t.Fatalf("inclusion of %d: %v", seq, err)
		}
	}
	return tree
}

func TestC2SPClient(t *testing.T) {
	dir := t.TempDir()
	skey, vkey := testkit.Keys("c2sp", testkit.Origin)
	key, _ := sealog.ParseKey(skey)
	l, err := sealog.Open(filepath.Join(dir, "log"), sealog.Options{Key: key, Rand: testkit.Rand("c2sp"), Clock: testkit.Clock(time.Microsecond)})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	tokens, err := server.CreateTokens(filepath.Join(dir, "tokens.json"))
	if err != nil {
		t.Fatal(err)
	}
	tok, _, _ := tokens.Add("reader", server.RoleRead, testkit.Start)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := server.New(ctx, server.Config{Log: l, Tokens: tokens})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv)
	defer hs.Close()
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	c := &c2spClient{t: t, base: hs.URL, token: tok, verifier: v, fetched: map[string][]byte{}}
	if code, _, _ := c.get("checkpoint"); code != 404 {
		t.Errorf("an empty log's checkpoint: %d, want 404", code)
	}
	var prev tlog.Tree
	appendN := func(n int) {
		for n > 0 {
			k := min(n, 10000)
			evs := make([]sealog.Event, k)
			for i := range evs {
				evs[i] = sealog.Event{Kind: "c2sp.test", Actor: "bob"}
			}
			if _, err := l.AppendBatch(ctx, evs); err != nil {
				t.Fatal(err)
			}
			n -= k
		}
	}
	for _, grow := range []int{1, 254, 1, 1, 65536 - 257 + 3} {
		appendN(grow)
		tree := c.verifyAll()
		if prev.N > 0 {
			hr := tlog.TileHashReader(tree, c)
			p, err := tlog.ProveTree(tree.N, prev.N, hr)
			if err != nil {
				t.Fatal(err)
			}
			if err := tlog.CheckTree(p, tree.N, tree.Hash, prev.N, prev.Hash); err != nil {
				t.Fatalf("consistency %d -> %d: %v", prev.N, tree.N, err)
			}
		}
		prev = tree
	}
	if prev.N != 65539 || c.fetched["tile/2/000.p/1"] == nil || c.fetched["tile/1/000"] == nil {
		t.Errorf("size %d; the tiles fetched did not reach level 2", prev.N)
	}
}
