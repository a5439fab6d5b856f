//go:build unix

package file

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/sealog/sealog/internal/durable"
	"github.com/sealog/sealog/internal/lockfile"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/store"
)

// Store is a log in a directory. Create one with Open.
type Store struct {
	dir      string
	opts     Options
	log      *slog.Logger
	meta     layout.Metadata
	verifier note.Verifier
	lock     *lockfile.Lock // nil when read-only

	// Owned by the writer, which holds writeMu (and Open/Close); seg is
	// replaced under mu too.
	seg    *durable.File // the active segment
	index  *durable.File
	hashes *durable.File
	pre    *prealloc

	writeMu sync.Mutex // held by Append, which writes, rotates and erases
	rewrite sync.Mutex // held while a sealed segment is compressed or erased in

	mu       sync.RWMutex // guards the fields below and seg
	head     store.Head   // committed (synced): what readers see
	segs     []segment    // every segment, the active one last
	closed   bool
	poisoned error          // the first write or sync failure
	pruned   *layout.Pruned // the prune point (pruned.json); nil if never pruned

	hashMap  *mapped
	indexMap *mapped
	readers  readerCache

	refreshMu sync.Mutex // read-only: serialises catching up with the writer
	ckSeen    ckStat     // read-only: the checkpoint file last caught up with

	pub  *publisher
	comp *compressor
}

// segment is one segment file as the store tracks it.
type segment struct {
	first      uint64
	path       string
	compressed bool
}

var _ store.Store = (*Store)(nil)

// Open opens the log in dir, creating it if dir holds none and opts has
// an Origin and a Key (unless NoCreate). Opened for writing, it recovers from a crash first (see the
// package documentation).
func Open(dir string, opts Options) (*Store, error) {
	if opts.SegmentSize == 0 {
		opts.SegmentSize = DefaultSegmentSize
	}
	if opts.SegmentSize < 1024 {
		return nil, fmt.Errorf("segment size %d is below 1024 bytes", opts.SegmentSize)
	}
	lg := opts.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	s := &Store{dir: dir, opts: opts, log: lg.With("log", dir)}

	meta, err := layout.ReadMetadata(dir)
	switch {
	case err == nil:
	case !opts.NoCreate && opts.Origin != "" && opts.Key != "" && !opts.ReadOnly && (errors.Is(err, layout.ErrNotLog) || errors.Is(err, fs.ErrNotExist)):
		if meta, err = create(dir, opts); err != nil {
			return nil, err
		}
		s.log.Info("created log", "origin", meta.Origin)
	case errors.Is(err, layout.ErrNotLog) || errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%w: %w", store.ErrNotLog, err)
	default:
		return nil, err
	}
	if opts.Key != "" && opts.Key != meta.Key {
		return nil, fmt.Errorf("%s is signed by key %q, not by the key given (%q)", dir, meta.Key, opts.Key)
	}
	s.meta = meta
	if s.verifier, err = note.NewVerifier(meta.Key); err != nil {
		return nil, fmt.Errorf("%s: bad key in %s: %v", dir, layout.MetadataFile, err)
	}
	if s.verifier.Name() != meta.Origin {
		return nil, fmt.Errorf("%s: key name %q differs from origin %q", dir, s.verifier.Name(), meta.Origin)
	}

	if !opts.ReadOnly {
		if s.lock, err = lockfile.Acquire(filepath.Join(dir, layout.LockFile)); err != nil {
			if errors.Is(err, lockfile.ErrLocked) {
				return nil, fmt.Errorf("%s: %w", dir, store.ErrLocked)
			}
			return nil, err
		}
	}
	if err := s.open(); err != nil {
		s.closeFiles()
		s.lock.Release()
		return nil, err
	}
	return s, nil
}

// create makes a new, empty log in dir.
func create(dir string, opts Options) (layout.Metadata, error) {
	if opts.Origin == "" || opts.Key == "" {
		return layout.Metadata{}, errors.New("creating a log needs an origin and a key")
	}
	if err := os.MkdirAll(filepath.Join(dir, layout.SegmentsDir), 0o755); err != nil {
		return layout.Metadata{}, err
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, layout.SegmentsDir)); len(ents) > 0 {
		return layout.Metadata{}, fmt.Errorf("%s has segments but no %s: refusing to create a log over them", dir, layout.MetadataFile)
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	meta := layout.Metadata{Format: layout.FormatName, Origin: opts.Origin, Key: opts.Key, Created: now().UTC().Truncate(time.Second)}
	b, err := jsonIndent(meta)
	if err != nil {
		return meta, err
	}
	if err := durable.SyncDir(dir); err != nil {
		return meta, err
	}
	// The metadata file is written last: a log without it is not a log,
	// so a crash during creation leaves nothing half-made.
	return meta, durable.WriteFile(filepath.Join(dir, layout.MetadataFile), b, 0o644)
}

// open loads the store's state: recovery for a writer, the checkpoint's
// view for a reader.
func (s *Store) open() error {
	segs, dups, err := layout.Segments(s.dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if s.pruned, err = layout.ReadPruned(s.dir); err != nil {
		return fmt.Errorf("%s: %w: %w", s.dir, store.ErrCorrupt, err)
	}
	for _, sg := range segs {
		s.segs = append(s.segs, segment{first: sg.First, path: sg.Path, compressed: sg.Compressed})
	}
	mode := os.O_RDWR | os.O_CREATE
	if s.opts.ReadOnly {
		mode = os.O_RDONLY
	}
	for _, f := range []struct {
		name string
		dst  **durable.File
	}{{layout.IndexFile, &s.index}, {layout.HashesFile, &s.hashes}} {
		fh, err := os.OpenFile(filepath.Join(s.dir, f.name), mode, 0o644)
		if err != nil {
			return err
		}
		*f.dst = durable.Wrap(fh)
	}
	s.hashMap = newMapped(s.hashes.Fd())
	s.indexMap = newMapped(s.index.Fd())
	if s.opts.ReadOnly {
		return s.openReadOnly()
	}
	for _, d := range dups {
		// Compression finished but the plain file was not yet removed:
		// the plain file is the original; drop the copy and redo it later.
		s.log.Info("removing interrupted compression output", "file", d)
		if err := os.Remove(d); err != nil {
			return err
		}
	}
	if err := s.recover(); err != nil {
		return err
	}
	if err := s.finishErase(); err != nil {
		return err
	}
	s.pre = startPrealloc(s.seg, filepath.Join(s.dir, layout.SegmentsDir), s.opts.SegmentSize, s.log)
	s.pub = startPublisher(s)
	if s.opts.Compress {
		s.comp = startCompressor(s)
		for _, sg := range s.segs[:len(s.segs)-1] {
			if !sg.compressed {
				s.comp.enqueue(sg.first)
			}
		}
	}
	return nil
}

// Head returns the committed state. A store opened ReadOnly first catches
// up with what the writer has published in the checkpoint file since the
// last call.
func (s *Store) Head(ctx context.Context) (store.Head, error) {
	if err := ctx.Err(); err != nil {
		return store.Head{}, err
	}
	if s.opts.ReadOnly {
		if err := s.refreshIfChanged(); err != nil {
			return store.Head{}, err
		}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return s.head, store.ErrClosed
	}
	return s.head, nil
}

// head returns the committed state without refreshing.
func (s *Store) headNow() store.Head {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.head
}

// Dir returns the log's directory.
func (s *Store) Dir() string { return s.dir }

// Metadata returns the log's identity, from its sealog.json.
func (s *Store) Metadata(ctx context.Context) (store.Metadata, error) {
	if err := ctx.Err(); err != nil {
		return store.Metadata{}, err
	}
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		return store.Metadata{}, store.ErrClosed
	}
	m := s.meta
	return store.Metadata{Format: m.Format, Origin: m.Origin, Key: m.Key, Created: m.Created}, nil
}

// Close trims the active segment's preallocated
// space, writes the derived files and the checkpoint durably, and releases
// the lock. The caller must have stopped writing.
func (s *Store) Close() error {
	var errs []error
	s.writeMu.Lock() // no Append in flight
	defer s.writeMu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	poisoned := s.poisoned
	s.mu.Unlock()
	if s.comp != nil {
		s.comp.stop()
	}
	s.pre.close()
	if s.pub != nil {
		errs = append(errs, s.pub.stop())
	}
	if !s.opts.ReadOnly && poisoned == nil {
		errs = append(errs, s.flush())
	}
	s.closeFiles()
	errs = append(errs, s.lock.Release())
	return errors.Join(errs...)
}

// flush trims the active segment, makes it and the derived files durable,
// and writes the checkpoint file durably.
func (s *Store) flush() error {
	if err := s.seal(); err != nil {
		return err
	}
	h := s.headNow()
	if h.Size == 0 {
		return nil
	}
	return durable.WriteFile(filepath.Join(s.dir, layout.CheckpointFile), h.Checkpoint, 0o644)
}

func (s *Store) closeFiles() {
	if s.hashMap != nil {
		s.hashMap.close()
	}
	if s.indexMap != nil {
		s.indexMap.close()
	}
	s.readers.close()
	for _, f := range []*durable.File{s.seg, s.index, s.hashes} {
		if f != nil {
			f.Close()
		}
	}
}
