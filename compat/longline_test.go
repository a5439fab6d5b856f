package compat

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestLongLines: a line longer than ~570 KiB after another line once made
// the Spine reader spin forever, and every reader kept a line of any
// length whole in memory (issue 8, item 16). Now each returns promptly, a
// Spine or spanforge line longer than MaxLineSize is a bad record, and an
// immutable-logging line of any length is still hashed exactly.
func TestLongLines(t *testing.T) {
	for _, size := range []int{600 << 10, 2 << 20, MaxLineSize + 5} {
		t.Run(strconv.Itoa(size>>10)+"KiB", func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()

			// Spine: a good record, then one with a huge payload.
			g := newSpineGen(t)
			recs := spineChain(g, 2)
			big := g.next(`{"event_type": "big", "pad": "`+strings.Repeat("a", size)+`"}`, "kid_a")
			dir := t.TempDir()
			writeWAL(t, dir, map[string][]*spRecSpec{"segment_20260302_090003.jsonl": append(recs, big)}, big, g.stream)
			r, err := Verify(ctx, Spine, dir, Options{Trust: g.trust("kid_a")})
			if err != nil || ctx.Err() != nil {
				t.Fatalf("spine: %v (ctx %v)", err, ctx.Err())
			}
			if size > MaxLineSize {
				want(t, r, false, 2, 3)
			} else {
				want(t, r, true, -1, 3)
			}
			if f, err := Detect(dir); err != nil || f != Spine {
				t.Fatalf("Detect = %v, %v", f, err)
			}

			// immutable-logging: the long line's hash is checked exactly.
			idir := t.TempDir()
			log := filepath.Join(idir, "app.log")
			lines := []string{"first", strings.Repeat("b", size), "last"}
			var side strings.Builder
			prev := strings.Repeat("0", 64)
			for i, l := range lines {
				sum := sha256.Sum256([]byte(l + prev))
				h := hex.EncodeToString(sum[:])
				side.WriteString(strconv.Itoa(i+1) + "|sha256=" + h + "|prev=" + prev + "\n")
				prev = h
			}
			writeFile(t, log, strings.Join(lines, "\n")+"\n")
			writeFile(t, log+sidecarSuffix, side.String())
			r, err = Verify(ctx, ImmutableLogging, log, Options{})
			if err != nil || !r.Valid {
				t.Fatalf("immutable-logging: %v %+v", err, r)
			}
			os.WriteFile(log, []byte(strings.Join([]string{"first", strings.Repeat("b", size-1) + "c", "last"}, "\n")+"\n"), 0o644)
			if r, err = Verify(ctx, ImmutableLogging, log, Options{}); err != nil || r.Valid || r.FirstInvalid == nil || *r.FirstInvalid != 1 {
				t.Fatalf("immutable-logging, long line changed: %v %+v", err, r)
			}
		})
	}
}
