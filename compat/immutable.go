package compat

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

var genesis64 = bytes.Repeat([]byte{'0'}, 64)

func verifyImmutable(ctx context.Context, path string, opts Options, fn func(Record) error) (*Report, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("immutable-logging: log file: %w", err)
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("immutable-logging: %s is a directory, want the log file", path)
	}
	files, err := immutableSet(path)
	if err != nil {
		return nil, err
	}
	b := newBuilder(ImmutableLogging)
	b.warn(WarnUnkeyedHashRewritable)
	b.note("The sidecar hash is unkeyed SHA-256: anyone who can write both files can edit lines and recompute the whole sidecar. Only an anchor kept elsewhere shows such a rewrite.")
	if len(files) > 1 {
		b.note("Rotated set of %d pairs, verified oldest first. Each pair is its own chain: removing or reordering whole pairs cannot be detected.", len(files))
	}
	checked := false
	ordinal := 0
	for k, file := range files {
		b.r.Files = append(b.r.Files, file)
		var a *anchorCheck
		if opts.Anchor != nil {
			if fa := opts.Anchor.forFile(file, k == len(files)-1); fa != nil {
				a, checked = newAnchorCheck(fa), true
			}
		}
		pv := &ilPair{b: b, path: file, fn: fn, anchor: a, ordinal: ordinal}
		if err := pv.verify(ctx); err != nil {
			return nil, err
		}
		ordinal += pv.n
		b.r.Records += pv.n
	}
	return b.finish(checked), nil
}

// ilPair verifies one log/sidecar pair.
type ilPair struct {
	b       *builder
	path    string
	fn      func(Record) error
	anchor  *anchorCheck
	ordinal int
	n       int // log lines seen
	extra   int // sidecar entries beyond the log
	noSide  bool
	prevH   []byte
	prevOK  bool
	prevN   uint64
	prevNOK bool
	reasons []string
}

func (pv *ilPair) verify(ctx context.Context) error {
	logF, err := os.Open(pv.path)
	if err != nil {
		return fmt.Errorf("immutable-logging: %w", err)
	}
	defer logF.Close()
	var side io.Reader
	sideF, err := os.Open(pv.path + sidecarSuffix)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		pv.noSide = true
		side = bytes.NewReader(nil)
	case err != nil:
		return fmt.Errorf("immutable-logging: sidecar: %w", err)
	default:
		defer sideF.Close()
		side = sideF
	}
	produce := func(emit func(*ilBatch) error) error {
		lr, sr := newLineReader(logF, pv.path), newLineReader(side, pv.path+sidecarSuffix)
		batch := newILBatch()
		for {
			l, lnl, lok, err := lr.next()
			if err != nil {
				return fmt.Errorf("immutable-logging: %w", err)
			}
			s, _, sok, err := sr.next()
			if err != nil {
				return fmt.Errorf("immutable-logging: %w", err)
			}
			if !lok && !sok {
				break
			}
			batch.add(l, lok, lnl, lr.Hash, s, sok)
			if batch.full() {
				if err := emit(batch); err != nil {
					return err
				}
				batch = newILBatch()
			}
		}
		if len(batch.hasLog) > 0 {
			return emit(batch)
		}
		return nil
	}
	newWork := func() func(*ilBatch) { return ilWork }
	if err := pipeline(ctx, produce, newWork, pv.consume); err != nil {
		return err
	}
	pv.finish()
	return nil
}

func (pv *ilPair) consume(batch *ilBatch) error {
	defer ilPool.Put(batch)
	for k := range batch.hasLog {
		if !batch.hasLog[k] {
			pv.extra++
			continue
		}
		r := pv.check(batch, k)
		if len(r) > 0 {
			pv.b.bad(pv.n, pv.path, pv.n+1, false, r...)
		}
		if pv.fn != nil {
			if err := pv.fn(pv.record(batch, k, r)); err != nil {
				return err
			}
		}
		pv.n++
	}
	return nil
}

func (pv *ilPair) check(batch *ilBatch, k int) []string {
	r := pv.reasons[:0]
	defer func() { pv.reasons = r }()
	if pv.noSide {
		if pv.n == 0 {
			r = append(r, "the sidecar "+pv.path+sidecarSuffix+" is missing")
		}
		return r
	}
	if !batch.hasSide[k] {
		return append(r, fmt.Sprintf("the sidecar has no entry for this line (it has %d entries)", pv.n))
	}
	res := &batch.res[k]
	if !res.wellFormed {
		pv.prevOK, pv.prevNOK = false, false
		return append(r, fmt.Sprintf("sidecar line %d is malformed (want N|sha256=<64 hex>|prev=<64 hex>)", pv.n+1))
	}
	switch {
	case res.nOverflow:
		r = append(r, fmt.Sprintf("sidecar entry number is %s, want %d", res.nText, pv.n+1))
	case pv.n == 0 && res.n != 1:
		r = append(r, fmt.Sprintf("sidecar entry number is %d, want 1", res.n))
	case pv.n > 0 && pv.prevNOK && res.n != pv.prevN+1:
		r = append(r, fmt.Sprintf("sidecar entry number is %d, want %d", res.n, pv.prevN+1))
	}
	switch {
	case pv.n == 0 && !bytes.Equal(res.p, genesis64):
		r = append(r, "the first entry's prev is not the genesis value (64 zeros)")
	case pv.n > 0 && pv.prevOK && !bytes.Equal(res.p, pv.prevH):
		r = append(r, "prev does not equal the previous entry's hash (entries deleted, inserted or reordered)")
	}
	if !res.hashOK {
		r = append(r, "SHA-256 of the line and prev does not match the sidecar hash (line edited, or lines deleted or reordered)")
	}
	pv.prevH, pv.prevOK = append(pv.prevH[:0], res.h...), true
	pv.prevN, pv.prevNOK = res.n, !res.nOverflow
	if pv.anchor != nil {
		pv.anchor.observe(pv.n, string(res.h))
	}
	return r
}

func (pv *ilPair) finish() {
	b := pv.b
	if pv.noSide && pv.n == 0 {
		b.bad(0, pv.path, 0, false, "the sidecar "+pv.path+sidecarSuffix+" is missing")
	}
	if pv.extra > 0 {
		b.bad(pv.n, pv.path, 0, true, fmt.Sprintf("the sidecar has %d more entries than the log has lines: log lines are missing at the end", pv.extra))
	}
	if bad, missing, at, why := pv.anchor.verdict(pv.n); bad {
		b.bad(at, pv.path, 0, missing, why)
	}
}
