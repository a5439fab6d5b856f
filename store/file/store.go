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
//
// Locks, in the order they are taken (a lock is never taken while one
// after it is held): writeMu, then syncMu or rewrite (never both), then
// mu; refreshMu (read-only stores) before mu. mu, the readers cache's lock, the mapped files'
// locks, the preallocator's and the compressor's are leaves: nothing is
// locked while one of them is held. README.md has the whole picture.
type Store struct {
	dir      string
	opts     Options
	log      *slog.Logger
	meta     layout.Metadata
	verifier note.Verifier  // the key in sealog.json
	lock     *lockfile.Lock // nil when read-only

	keyMu    sync.Mutex      // guards keyring and keyTexts
	keyring  []note.Verifier // verifier, then the keys file's (keys.go)
	keyTexts []string        // the keys file's lines

	// Owned by the writer, which holds writeMu (or is in Open or Close).
	seg       *durable.File // the active segment
	index     *durable.File
	hashes    *durable.File
	pre       *prealloc
	dirID     fileID    // the log directory, as opened
	segID     fileID    // the active segment, as opened or created
	idChecked time.Time // when checkIdentity last checked the paths
	dups      []string  // compressed copies found beside their plain segments at open

	writeMu sync.Mutex // held by Append (which writes, rotates and erases) and Close
	rewrite sync.Mutex // held while a sealed segment is compressed, rewritten by an erasure, or its plain file removed

	// syncMu is held by syncTo (the fdatasync that makes staged batches
	// durable), and by rotation and Close, which change or seal the
	// active segment; it guards seg (with writeMu: either suffices to
	// read it) and the identity check's state.
	syncMu sync.Mutex

	mu          sync.RWMutex // guards head, staged, stagedFirst, segs, closed, poisoned and pruned
	head        store.Head   // committed (synced): what readers see
	staged      store.Head   // after the last batch written; head when none is unsynced
	stagedFirst uint64       // the first seq of the last batch staged
	segs        []segment    // every segment, the active one last
	closed      bool
	poisoned    error          // the first write or sync failure
	pruned      *layout.Pruned // the prune point (pruned.json); nil if never pruned

	// Set when the store is opened (the writer's, by recovery), before
	// any concurrent use.
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
	s.meta = meta
	if s.verifier, err = note.NewVerifier(meta.Key); err != nil {
		return nil, fmt.Errorf("%s: bad key in %s: %v", dir, layout.MetadataFile, err)
	}
	if s.verifier.Name() != meta.Origin {
		return nil, fmt.Errorf("%s: key name %q differs from origin %q", dir, s.verifier.Name(), meta.Origin)
	}
	if err := s.loadKeys(); err != nil {
		return nil, err
	}
	if opts.Key != "" && !s.hasKey(opts.Key) {
		// A key the keys file does not list (a log copied without it, or a
		// wrong key): accepted for the store's own checks only, since
		// whoever gives it holds it. The Log then follows the chain of
		// keys in the entries and refuses a key that is not the current
		// one; it records the key if it is (keys.go).
		v, err := note.NewVerifier(opts.Key)
		if err != nil || v.Name() != meta.Origin {
			return nil, &store.KeyError{Log: dir, Given: opts.Key, Current: meta.Key}
		}
		s.setKeyring(append(s.keys(), v))
	}

	if !opts.ReadOnly {
		if err := s.noteDir(); err != nil {
			return nil, err
		}
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
	s.dups = dups
	if s.opts.ReadOnly {
		if err := s.openDerivedReadOnly(); err != nil {
			return err
		}
		s.hashMap = newMapped(s.hashes.Fd())
		s.indexMap = newMapped(s.index.Fd())
		return s.openReadOnly()
	}
	if err := s.openDerived(false); err != nil {
		return err
	}
	if err := s.recover(); err != nil {
		return err
	}
	if err := s.finishErase(); err != nil {
		return err
	}
	s.staged, s.stagedFirst = s.head, s.head.Size
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

// openDerivedReadOnly opens the index and hashes files for reading. A
// writer creates them when it first opens a new log, after its metadata:
// a reader that comes in between waits a little, then fails with
// ErrRecoveryNeeded.
func (s *Store) openDerivedReadOnly() error {
	wait := 10 * time.Millisecond
	for _, f := range []struct {
		name string
		dst  **durable.File
	}{{layout.IndexFile, &s.index}, {layout.HashesFile, &s.hashes}} {
		for {
			fh, err := os.OpenFile(filepath.Join(s.dir, f.name), os.O_RDONLY, 0)
			if errors.Is(err, fs.ErrNotExist) {
				if wait < 3*time.Second {
					time.Sleep(wait)
					wait *= 2
					continue
				}
				return fmt.Errorf("%s: %w: %s is missing (a writer has not yet finished opening the log)", s.dir, ErrRecoveryNeeded, f.name)
			}
			if err != nil {
				return err
			}
			*f.dst = durable.Wrap(fh)
			break
		}
	}
	return nil
}

// openDerived opens the index and hashes files for writing; with create
// it creates the missing ones, without it leaves them nil (recovery
// rebuilds them, and creates them only once it knows it will not refuse
// the log).
func (s *Store) openDerived(create bool) error {
	flag := os.O_RDWR
	if create {
		flag |= os.O_CREATE
	}
	for _, f := range []struct {
		name string
		dst  **durable.File
		m    **mapped
	}{{layout.IndexFile, &s.index, &s.indexMap}, {layout.HashesFile, &s.hashes, &s.hashMap}} {
		if *f.dst != nil {
			continue
		}
		fh, err := os.OpenFile(filepath.Join(s.dir, f.name), flag, 0o644)
		if errors.Is(err, fs.ErrNotExist) && !create {
			continue
		}
		if err != nil {
			return err
		}
		*f.dst = durable.Wrap(fh)
		*f.m = newMapped(fh)
	}
	return nil
}

// createDerived creates the derived files that are missing.
func (s *Store) createDerived() error { return s.openDerived(true) }

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
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	if err := s.checkIdentity(true); err != nil {
		return err // write nothing into a directory that is not the log's
	}
	if err := s.seal(); err != nil {
		return err
	}
	// Batches staged and not waited for are durable now (the seal synced
	// them), and checked.
	s.mu.Lock()
	s.head = s.staged
	h := s.head
	s.mu.Unlock()
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
