package witness

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/sealog/sealog/internal/durable"
	"github.com/sealog/sealog/internal/lockfile"
)

// State is where a witness keeps, per log origin, the latest checkpoint it
// cosigned: a directory with one file per origin, named by the hex SHA-256
// of the origin, holding the signed checkpoint note (the log's signature
// and the witness's cosignature). A file is replaced atomically
// (temporary file, fsync, rename, fsync of the directory), so after a
// crash it holds the old or the new note, never a mix. The directory is
// locked (a "lock" file, flock) so that a second process cannot serve the
// same state.
type State struct {
	dir  string
	lock *lockfile.Lock

	mu    sync.Mutex             // guards locks
	locks map[string]*sync.Mutex // one per origin: held from the check to the update
}

// OpenState opens (creating it if needed, mode 0700) the state directory.
func OpenState(dir string) (*State, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("witness: state directory: %w", err)
	}
	l, err := lockfile.Acquire(filepath.Join(dir, "lock"))
	if err != nil {
		return nil, fmt.Errorf("witness: state directory %s: %w", dir, err)
	}
	return &State{dir: dir, lock: l, locks: map[string]*sync.Mutex{}}, nil
}

// Close releases the directory's lock.
func (s *State) Close() error { return s.lock.Release() }

// originLock returns the mutex of origin's state.
func (s *State) originLock(origin string) *sync.Mutex {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.locks[origin]
	if m == nil {
		m = new(sync.Mutex)
		s.locks[origin] = m
	}
	return m
}

// path is the file of origin's state.
func (s *State) path(origin string) string {
	h := sha256.Sum256([]byte(origin))
	return filepath.Join(s.dir, hex.EncodeToString(h[:]))
}

// Load returns the latest cosigned checkpoint note for origin, or nil if
// there is none.
func (s *State) Load(origin string) ([]byte, error) {
	b, err := os.ReadFile(s.path(origin))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("witness: reading the state of %q: %w", origin, err)
	}
	return b, nil
}

// store makes note origin's latest cosigned checkpoint, durably.
func (s *State) store(origin string, note []byte) error {
	if err := durable.WriteFile(s.path(origin), note, 0o600); err != nil {
		return fmt.Errorf("witness: persisting the state of %q: %w", origin, err)
	}
	return nil
}
