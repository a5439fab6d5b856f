//go:build unix

package file

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/format"
	"github.com/sealog/sealog/internal/durable"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/tree"
)

// Recovery is the normal open path: a cleanly closed log is a log with
// nothing to cut. It runs in two phases. plan reads the log and decides
// everything, writing nothing; if it refuses the log (damage, missing
// entries, a file it may not write), nothing on disk has changed. apply
// then carries the plan out (apply.go).

// recovery is what plan found and apply does.
type recovery struct {
	s  *Store
	sc *scanner

	// The derived files are trusted for entries below base (they were
	// made durable when those entries' segments were sealed, and checked
	// here); entries from base on were rescanned. Those of sealed
	// segments rescanned (a rebuild) are spilled to unlinked temporary
	// files; those of the last segment are in sc.
	base        uint64
	activeFirst uint64
	spill       *spill

	act    *activeTail // the last segment, when it is plain
	newSeg bool        // start a new active segment (none, or the last is compressed)

	dropCopies []string  // compressed copies an interrupted compression left
	prunedGone []segment // segments below the prune point an interrupted prune left
	ckWrite    []byte    // the checkpoint file to write; nil leaves it
}

// activeTail is the plan for the active segment.
type activeTail struct {
	f        *durable.File // opened read-write by plan
	path     string
	size     int64
	cut      int64 // the segment is cut back to here
	last     int64 // [last, cut) is its last batch, written again and synced
	unsigned uint64
	damage   string // what was found after the last entry, if not a crash's leftovers
	data     bool   // bytes other than NUL follow cut
}

// recover plans and applies recovery, and opens the active segment.
func (s *Store) recover() error {
	r := &recovery{s: s, sc: &scanner{origin: s.meta.Origin}}
	err := r.plan()
	if err == nil {
		err = r.apply()
	}
	r.spill.close()
	if err != nil && r.act != nil && r.act.f != s.seg && s.seg != nil {
		r.act.f.Close()
	}
	return err
}

func (r *recovery) plan() error {
	s, sc := r.s, r.sc
	if err := s.checkWritable(); err != nil {
		return err
	}
	for _, d := range s.dups {
		// A copy without its frame index is unfinished (the index is
		// written before the copy is renamed into place): drop it. A
		// finished one stays; the compressor removes the plain file.
		if _, err := os.Stat(zidxPath(d)); err != nil {
			r.dropCopies = append(r.dropCopies, d)
		}
	}
	if len(s.segs) == 0 {
		r.newSeg = true
		return r.planCheckpoint()
	}
	var start uint64 // where the first segment must start
	if s.pruned != nil {
		// A prune that wrote pruned.json may have been cut short before
		// its segments were deleted: apply deletes them.
		r.prunedGone = s.dropPruned()
		start = s.pruned.Below
	}
	if s.segs[0].first != start {
		if start == 0 {
			return fmt.Errorf("%s: %w: the first segment, %s, starts at seq %d: the segments before it are missing", s.dir, store.ErrCorrupt, filepath.Base(s.segs[0].path), s.segs[0].first)
		}
		return fmt.Errorf("%s: %w: the first segment, %s, starts at seq %d, not at the prune point %d (%s)", s.dir, store.ErrCorrupt, filepath.Base(s.segs[0].path), s.segs[0].first, start, layout.PrunedFile)
	}
	last := len(s.segs) - 1
	from := last
	if t0 := s.segs[last].first; t0 > 0 {
		if err := s.loadState(sc, t0); err != nil {
			s.log.Warn("rebuilding the index and hashes files from all segments", "reason", err)
			*sc = scanner{origin: s.meta.Origin}
			from = 0
			if s.pruned != nil {
				if err := s.prunedStart(sc); err != nil {
					return err
				}
			}
		}
	}
	r.base = s.segs[from].first
	r.activeFirst = s.segs[last].first
	// The sealed segments that are not rescanned are checked where they
	// meet their neighbours.
	for i := 0; i < from; i++ {
		if err := s.checkSealed(i); err != nil {
			return err
		}
	}
	if from < last {
		var err error
		if r.spill, err = newSpill(s.dir); err != nil {
			return err
		}
	}
	for i := from; i <= last; i++ {
		sg := s.segs[i]
		if sg.first != sc.next {
			return fmt.Errorf("%s: %w: segment %s starts at seq %d, want %d", s.dir, store.ErrCorrupt, filepath.Base(sg.path), sg.first, sc.next)
		}
		sc.startSegment()
		if i < last || sg.compressed {
			if err := r.scanSealed(sg); err != nil {
				return err
			}
			if i < last {
				if err := r.spill.add(sc); err != nil {
					return err
				}
			}
			continue
		}
		if err := r.scanActive(sg); err != nil {
			return err
		}
	}
	if s.segs[last].compressed {
		// The active segment was removed after its predecessor was
		// compressed; the checkpoint file tells whether it held anything.
		r.newSeg = true
	}
	sc.keepCheckpoint()
	if sc.next > 0 && sc.ck.next != sc.next {
		return fmt.Errorf("%s: %w: entry %d ends the log but carries no signature", s.dir, store.ErrCorrupt, sc.next-1)
	}
	return r.planCheckpoint()
}

// loadState sets the scanner to the state after entry t0-1, from the
// derived files, which were made durable when that entry's segment was
// sealed.
func (s *Store) loadState(sc *scanner, t0 uint64) error {
	if err := s.checkDerived(t0); err != nil {
		return err
	}
	if s.pruned != nil && t0 == s.pruned.Below {
		return s.prunedStart(sc) // entry t0-1 is gone; pruned.json holds its link and tree
	}
	edge, err := tree.Load(t0, hashReader{s})
	if err != nil {
		return err
	}
	h, err := s.readHashesRaw([]int64{tlog.StoredHashIndex(0, int64(t0-1))})
	if err != nil {
		return err
	}
	line, err := s.readLineRaw(t0-1, nil)
	if err != nil {
		return err
	}
	l, err := format.ParseLine(line)
	if err != nil {
		return fmt.Errorf("entry %d: %w", t0-1, err)
	}
	if hd := l.Header(); hd.LeafHash() != h[0] || l.Seq != t0-1 {
		return fmt.Errorf("entry %d does not match its stored leaf hash", t0-1)
	}
	if l.Sig == nil {
		return fmt.Errorf("entry %d ends a segment but carries no signature", t0-1)
	}
	sc.next, sc.edge, sc.last, sc.time = t0, edge, h[0], l.Time
	sc.ck.next, sc.ck.root, sc.ck.sig = t0, edge.Root(), l.Sig
	return nil
}

// scanSealed replays a sealed segment, which must be whole and end with a
// signed batch whose signature verifies.
func (r *recovery) scanSealed(sg segment) error {
	s, sc := r.s, r.sc
	name := filepath.Base(sg.path)
	rc, err := openSegment(sg)
	if err != nil {
		return err
	}
	defer rc.Close()
	lr := newLineReader(rc, 0)
	for n := 1; ; n++ {
		line, off, kind, err := lr.scan()
		switch {
		case errors.Is(err, store.ErrCorrupt):
			return fmt.Errorf("%s: %w (sealed segment %s, after entry %d)", s.dir, err, name, int64(sc.next)-1)
		case err != nil:
			return err
		case kind == lineEOF:
			if sc.signed.next != sc.next {
				return fmt.Errorf("%s: %w: sealed segment %s does not end with a signed batch (entries %d to %d follow its last signature)", s.dir, store.ErrCorrupt, name, sc.signed.next, sc.next-1)
			}
			return s.checkSigned(sc, name)
		case kind != lineOK:
			return fmt.Errorf("%s: %w: sealed segment %s is damaged at byte %d (entry %d): %s", s.dir, store.ErrCorrupt, name, off, sc.next, describeStop(kind, line, nil))
		}
		if err := sc.add(line, off); err != nil {
			return fmt.Errorf("%s: %w: sealed segment %s, line %d (byte %d): %v", s.dir, store.ErrCorrupt, name, n, off, err)
		}
	}
}

// scanActive replays the active segment and plans its cut: after its
// last signed batch, what a crash can leave is cut; damage that a
// signature covers makes Open refuse the log.
func (r *recovery) scanActive(sg segment) error {
	s, sc := r.s, r.sc
	name := filepath.Base(sg.path)
	f, err := durable.OpenFile(sg.path, 0, 0o644) // read-write: a segment we may not write is refused now
	if err != nil {
		return err
	}
	fi, err := f.Fd().Stat()
	if err != nil {
		f.Close()
		return err
	}
	a := &activeTail{f: f, path: sg.path, size: fi.Size()}
	r.act = a
	lr := newLineReader(io.NewSectionReader(f, 0, a.size), 0)
	var (
		stop      int64 = -1 // offset of the first line not folded in
		kind      lineKind
		bad       error
		stopLine  []byte
		stopEntry uint64
	)
	for {
		line, off, k, err := lr.scan()
		if err != nil {
			return fmt.Errorf("%s: reading %s: %w", s.dir, name, err)
		}
		if k == lineEOF {
			break
		}
		if k != lineOK {
			stop, kind, stopLine, stopEntry = off, k, line, sc.next
			break
		}
		if err := sc.add(line, off); err != nil {
			stop, kind, bad, stopLine, stopEntry = off, k, err, line, sc.next
			break
		}
	}
	if err := s.checkSigned(sc, name); err != nil {
		return err
	}
	var ti tailInfo
	if stop >= 0 {
		what := describeStop(kind, stopLine, bad)
		if ti, err = analyzeTail(f, stop, a.size, '\n'); err != nil {
			return fmt.Errorf("%s: reading %s: %w", s.dir, name, err)
		}
		crash := kind == lineTorn || kind == lineNUL && ti.oddHole < 0
		// The batches that show after the stop: each signed line ends
		// one, and data after the last of them is one more, cut short.
		// A crash leaves at most maxUnsynced; damage before them, or a
		// signed line after damage no crash leaves, is damage to
		// acknowledged entries.
		shown := ti.signed
		if ti.dataEnd > ti.sigEnd && ti.signed > 0 {
			shown++
		}
		if ti.signed > 0 && (!crash || shown > maxUnsynced) {
			return fmt.Errorf("%s: %w: entry %d in %s (byte %d) is damaged (%s), and %d signed batches follow it: entries that were acknowledged are damaged; nothing was changed; run `sealog verify %s` to see which",
				s.dir, store.ErrCorrupt, stopEntry, name, stop, what, ti.signed, s.dir)
		}
		switch {
		case ti.oddHole >= 0:
			a.damage = fmt.Sprintf("NUL bytes at byte %d followed by data, which no crash leaves", ti.oddHole)
		case !crash:
			a.damage = what
		}
	}
	a.unsigned = sc.next - sc.signed.next
	a.cut, a.last = sc.signed.end, sc.signed.prevEnd
	a.data = a.unsigned > 0 || ti.dataEnd > stop && stop >= 0
	sc.restore(&sc.signed)
	return nil
}

// describeStop says what made the scan of a segment stop.
func describeStop(kind lineKind, line []byte, bad error) string {
	switch kind {
	case lineNUL:
		if len(line) == 0 {
			return "NUL bytes where a line starts"
		}
		return fmt.Sprintf("a NUL byte %d bytes into the line", len(line))
	case lineTorn:
		return "a line cut short by the end of the file"
	case lineLong:
		return fmt.Sprintf("no newline within %d bytes", format.MaxLineSize)
	case lineOK:
		if bad != nil {
			return bad.Error()
		}
	}
	return "unreadable"
}

// checkSigned verifies the newest signature found in a segment.
func (s *Store) checkSigned(sc *scanner, name string) error {
	p := &sc.signed
	if p.sig == nil {
		return nil
	}
	if !s.knownKey(p.sig) {
		return fmt.Errorf("%s: the signature on entry %d in %s is by a key this log does not list (key hash %08x; a rotated log copied without its %s file?): open it with the key the log is signed by now", s.dir, p.next-1, name, keyHashOf(p.sig), layout.KeysFile)
	}
	if !s.verifyText(p.text(s.meta.Origin), p.sig) {
		return fmt.Errorf("%s: %w: the signature on entry %d in %s does not verify with the log's key; run `sealog verify %s`", s.dir, store.ErrCorrupt, p.next-1, name, s.dir)
	}
	return nil
}

// checkWritable refuses, before anything is changed, a log whose
// directories the writer may not change.
func (s *Store) checkWritable() error {
	for _, d := range []string{s.dir, filepath.Join(s.dir, "segments")} {
		if err := accessWrite(d); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%s: %w", d, err)
		}
	}
	return nil
}
