package server

import (
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/store"
)

// Tiles are C2SP tlog-tiles (https://c2sp.org/tlog-tiles): height 8,
// 256 hashes (or entries) wide.
const (
	tileHeight = 8
	tileWidth  = 1 << tileHeight
)

// handleCheckpoint serves GET /checkpoint: the latest signed checkpoint,
// as C2SP tlog-checkpoint text, cacheable for two seconds at most.
func (s *Server) handleCheckpoint(w http.ResponseWriter, r *http.Request, _ TokenInfo) {
	h, err := s.log.Head(r.Context())
	if err != nil {
		s.fail(w, r, storeError(err))
		return
	}
	if h.Size == 0 {
		s.fail(w, r, notFound("the log is empty: it has no checkpoint yet"))
		return
	}
	w.Header().Set("Cache-Control", s.cache("max-age=2"))
	note := h.Checkpoint.Note
	if s.cfg.Witnesses != nil {
		if c := s.cfg.Witnesses.Cosigned(h.Size); c != nil {
			note = c // the same checkpoint, with the witnesses' cosignatures
		}
	}
	writeBytes(w, "text/plain; charset=utf-8", note)
}

// cache returns a Cache-Control value: public for a public log, private
// (no shared cache) when reads need a token.
func (s *Server) cache(directives string) string {
	if s.cfg.PublicReads {
		return "public, " + directives
	}
	return "private, " + directives
}

// tilePath is a parsed tile path: level L (-1 for an entry bundle), index
// N and width W (tileWidth for a full tile).
type tilePath struct {
	L int
	N int64
	W int
}

// parseTilePath parses what follows "tile/": "<L>/<N>[.p/<W>]" or
// "entries/<N>[.p/<W>]", in the spec's canonical encoding only.
func parseTilePath(p string) (tilePath, bool) {
	var t tilePath
	level, rest, ok := strings.Cut(p, "/")
	if !ok {
		return t, false
	}
	if level == "entries" {
		t.L = -1
	} else {
		l, ok := canonicalInt(level, 63)
		if !ok {
			return t, false
		}
		t.L = int(l)
	}
	t.W = tileWidth
	if i := strings.Index(rest, ".p/"); i >= 0 {
		w, ok := canonicalInt(rest[i+3:], tileWidth-1)
		if !ok || w == 0 {
			return t, false
		}
		t.W, rest = int(w), rest[:i]
	}
	elems := strings.Split(rest, "/")
	for i, e := range elems {
		if i < len(elems)-1 {
			if !strings.HasPrefix(e, "x") {
				return t, false
			}
			e = e[1:]
		}
		if len(e) != 3 || e[0] < '0' || e[0] > '9' || e[1] < '0' || e[1] > '9' || e[2] < '0' || e[2] > '9' {
			return t, false
		}
		d, _ := strconv.Atoi(e)
		if i == 0 && d == 0 && len(elems) > 1 {
			return t, false // a leading zero element is not canonical
		}
		if t.N > (1<<62)/1000 {
			return t, false
		}
		t.N = t.N*1000 + int64(d)
	}
	return t, true
}

// canonicalInt parses a decimal without leading zeros, at most max.
func canonicalInt(s string, max uint64) (uint64, bool) {
	if s == "" || len(s) > 1 && s[0] == '0' {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil && n <= max
}

// exists reports whether the tree of size entries holds tile t: its
// hashes at its level are all there.
func (t tilePath) exists(size uint64) bool {
	l := max(t.L, 0)
	if tileHeight*l >= 64 {
		return false
	}
	avail := size >> (tileHeight * l) // hashes at the tile's level
	return uint64(t.N) <= avail/tileWidth && uint64(t.N)*tileWidth+uint64(t.W) <= avail
}

// handleTile serves GET /tile/<L>/<N>[.p/<W>] and
// /tile/entries/<N>[.p/<W>]. Every entry of a bundle is the entry's
// 81-byte leaf header (docs/FORMAT.md §4), whose RFC 6962 leaf hash is
// the entry's leaf. Tiles and bundles are immutable: a path always names
// the same bytes.
func (s *Server) handleTile(w http.ResponseWriter, r *http.Request, _ TokenInfo) {
	t, ok := parseTilePath(r.PathValue("path"))
	if !ok {
		s.fail(w, r, notFound("not a tile path: want tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>] (c2sp.org/tlog-tiles)"))
		return
	}
	ctx := r.Context()
	h, err := s.st.Head(ctx)
	if err != nil {
		s.fail(w, r, storeError(err))
		return
	}
	if !t.exists(h.Size) {
		s.fail(w, r, notFound("the log (%d entries) has no such tile yet", h.Size))
		return
	}
	var data []byte
	if t.L >= 0 {
		data, err = tlog.ReadTileData(tlog.Tile{H: tileHeight, L: t.L, N: t.N, W: t.W}, store.HashReader(ctx, s.st))
	} else {
		data, err = s.entryBundle(r, t)
	}
	if err != nil {
		s.fail(w, r, storeError(err))
		return
	}
	w.Header().Set("Cache-Control", s.cache("max-age=31536000, immutable"))
	if t.L < 0 && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Vary", "Accept-Encoding")
		zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
		zw.Write(data)
		zw.Close()
		return
	}
	writeBytes(w, "application/octet-stream", data)
}

// entryBundle reads entries [N·256, N·256+W) and returns them as an entry
// bundle: each a big-endian uint16 length and the leaf header.
func (s *Server) entryBundle(r *http.Request, t tilePath) ([]byte, error) {
	first := uint64(t.N) * tileWidth
	out := make([]byte, 0, t.W*(2+format.HeaderSize))
	err := s.st.ReadLines(r.Context(), first, first+uint64(t.W), func(ln store.Line) error {
		l, err := format.ParseLine(ln.Bytes)
		if err != nil {
			return fmt.Errorf("entry %d: %w", ln.Seq, err)
		}
		h := l.Header()
		if h.LeafHash() != ln.Leaf {
			return fmt.Errorf("entry %d: its stored line does not hash to its stored leaf", ln.Seq)
		}
		enc := h.Encode()
		out = binary.BigEndian.AppendUint16(out, uint16(len(enc)))
		out = append(out, enc[:]...)
		return nil
	})
	if err == nil && len(out) != t.W*(2+format.HeaderSize) {
		err = fmt.Errorf("entries %d to %d: the store returned fewer", first, first+uint64(t.W)-1)
	}
	return out, err
}
