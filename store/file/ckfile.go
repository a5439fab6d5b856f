//go:build unix

package file

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/store"
)

// planHashes reads stored hashes as recovery will leave them: from the
// derived files below base, then from the spill, then from the scanner.
type planHashes struct{ r *recovery }

func (h planHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	r := h.r
	nBase := tlog.StoredHashCount(int64(r.base))
	nAct := tlog.StoredHashCount(int64(r.activeFirst))
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		switch {
		case x < 0:
			return nil, fmt.Errorf("stored hash %d: %w", x, store.ErrNotFound)
		case x < nBase:
			hs, err := r.s.readHashesRaw([]int64{x})
			if err != nil {
				return nil, err
			}
			out[i] = hs[0]
		case x < nAct:
			if _, err := r.spill.hashes.ReadAt(out[i][:], (x-nBase)*tlog.HashSize); err != nil {
				return nil, fmt.Errorf("stored hash %d: %w", x, err)
			}
		default:
			j := x - nAct
			if j >= int64(len(r.sc.hashes)) {
				return nil, fmt.Errorf("stored hash %d: %w", x, store.ErrNotFound)
			}
			out[i] = r.sc.hashes[j]
		}
	}
	return out, nil
}

// planCheckpoint compares the checkpoint file with the recovered log: a
// checkpoint beyond it means acknowledged entries are gone (or damaged);
// one that disagrees with it means the log was rewritten.
func (r *recovery) planCheckpoint() error {
	s, sc := r.s, r.sc
	size := sc.next
	var ck []byte
	if size > 0 {
		ck = checkpoint.Assemble(checkpoint.Checkpoint{Origin: s.meta.Origin, Size: size, Root: sc.ck.root}.Text(), s.meta.Origin, sc.ck.sig)
	}
	s.head = store.Head{Size: size, LastLeaf: sc.last, LastTime: sc.time, Checkpoint: ck}
	path := filepath.Join(s.dir, layout.CheckpointFile)
	b, err := readSmall(path, maxCheckpointFile)
	if errors.Is(err, fs.ErrNotExist) {
		r.ckWrite = ck
		return nil
	}
	var pe *fs.PathError
	if err != nil && errors.As(err, &pe) && !errors.Is(err, syscall.ELOOP) {
		return err
	}
	if err == nil {
		c, _, err := checkpoint.Open(b, s.verifiers(), s.meta.Origin)
		switch {
		case err != nil:
			s.log.Warn("replacing an unreadable checkpoint file", "error", err)
		case c.Size > size && r.act != nil && r.act.data:
			return fmt.Errorf("%s: %w: its checkpoint covers %d entries, but entry %d and those after it are damaged or incomplete (see above); nothing was changed; run `sealog verify %s`",
				s.dir, store.ErrCorrupt, c.Size, size, s.dir)
		case c.Size > size:
			return fmt.Errorf("%s: %w: its checkpoint covers %d entries but only %d are present; entries %d to %d were removed",
				s.dir, store.ErrTruncated, c.Size, size, size, c.Size-1)
		default:
			root, err := tlog.TreeHash(int64(c.Size), planHashes{r})
			if err != nil {
				return err
			}
			if root != c.Root {
				return fmt.Errorf("%s: %w: the entries do not match the log's own checkpoint at size %d; run `sealog verify %s`", s.dir, store.ErrCorrupt, c.Size, s.dir)
			}
			if bytes.Equal(b, ck) {
				return nil
			}
		}
	} else {
		s.log.Warn("replacing a checkpoint file that is not one", "error", err)
	}
	r.ckWrite = ck
	return nil
}

// maxCheckpointFile bounds what is read of a checkpoint file: a signed
// note of a few signatures is well under a kilobyte.
const maxCheckpointFile = 64 << 10

// readSmall reads the regular file at path, refusing one larger than max
// (a plain error, not an *fs.PathError) or not a regular file.
func readSmall(path string, max int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%v)", path, fi.Mode())
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, max)
	}
	return b, nil
}
