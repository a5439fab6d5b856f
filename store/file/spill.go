//go:build unix

package file

import (
	"encoding/binary"
	"os"

	"golang.org/x/mod/sumdb/tlog"
)

// spill holds the derived data of sealed segments rescanned in a rebuild,
// in unlinked temporary files (a refused open leaves nothing behind).
type spill struct {
	index, hashes *os.File
	nIndex        int64
	nHashes       int64
}

func newSpill(dir string) (*spill, error) {
	sp := &spill{}
	for _, f := range []**os.File{&sp.index, &sp.hashes} {
		t, err := os.CreateTemp(dir, ".rebuild-*")
		if err != nil {
			sp.close()
			return nil, err
		}
		os.Remove(t.Name())
		*f = t
	}
	return sp, nil
}

// add appends the scanner's derived data for the segment just scanned.
func (sp *spill) add(sc *scanner) error {
	idx := make([]byte, 8*len(sc.segOff))
	for i, off := range sc.segOff {
		binary.BigEndian.PutUint64(idx[8*i:], uint64(off))
	}
	if _, err := sp.index.WriteAt(idx, sp.nIndex); err != nil {
		return err
	}
	sp.nIndex += int64(len(idx))
	hb := hashBytes(sc.hashes)
	if _, err := sp.hashes.WriteAt(hb, sp.nHashes); err != nil {
		return err
	}
	sp.nHashes += int64(len(hb))
	return nil
}

func (sp *spill) indexFile() *os.File {
	if sp == nil {
		return nil
	}
	return sp.index
}

func (sp *spill) hashesFile() *os.File {
	if sp == nil {
		return nil
	}
	return sp.hashes
}

func (sp *spill) close() {
	if sp == nil {
		return
	}
	for _, f := range []*os.File{sp.index, sp.hashes} {
		if f != nil {
			f.Close()
		}
	}
}

func hashBytes(hs []tlog.Hash) []byte {
	b := make([]byte, 0, len(hs)*tlog.HashSize)
	for i := range hs {
		b = append(b, hs[i][:]...)
	}
	return b
}
