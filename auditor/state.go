package auditor

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/sealog/sealog/client"
	"github.com/sealog/sealog/internal/durable"
	"github.com/sealog/sealog/internal/lockfile"
)

// StateFormat is the format member of a state file.
const StateFormat = "sealog-auditor-state/v1"

// LogState is what an auditor keeps about one log between runs. It is
// written only after a successful audit, so that a failed one never
// moves what the auditor trusts.
type LogState struct {
	// Log is the log's name (passwords removed); Origin and Key the
	// origin and verifier key it was audited with.
	Log    string `json:"log"`
	Origin string `json:"origin"`
	Key    string `json:"key"`
	// Checkpoint is the last checkpoint the auditor trusted, a signed
	// note ("" while the log was empty); Size and Root are its tree.
	Checkpoint string    `json:"checkpoint"`
	Size       uint64    `json:"size"`
	Root       tlog.Hash `json:"root"`
	// LastAudit is when that audit ended; Result its verdict ("valid").
	LastAudit time.Time `json:"last_audit"`
	Result    string    `json:"result"`
	// Entries is the number of entry lines that audit checked.
	Entries uint64 `json:"entries_checked"`
	// Keys is the log's chain of keys as the audit followed it (Key
	// first, then each key a rotation record handed over to), when the
	// log was rotated; Checkpoint is signed by the key in effect at its
	// size.
	Keys []client.TrustedKey `json:"keys,omitempty"`
}

// stateDoc is a state file: one log's state, or every log's.
type stateDoc struct {
	Format string               `json:"format"`
	Logs   map[string]*LogState `json:"logs"`
}

// states is the auditor's state on disk: one file for every log, or a
// directory with one file per log. A lock file beside it keeps a second
// auditor from sharing it (each auditor keeps its own state).
type states struct {
	path string
	dir  bool
	lock *lockfile.Lock

	mu  sync.Mutex // guards doc (one-file mode)
	doc *stateDoc
}

// openStates opens (creating if needed) the state at path: a directory
// if path is one or ends with a slash, else a file.
func openStates(path string) (*states, error) {
	if path == "" {
		return nil, errors.New("auditor: Config.State is required (where the auditor keeps the checkpoints it trusts)")
	}
	s := &states{path: filepath.Clean(path)}
	fi, err := os.Stat(path)
	switch {
	case err == nil && fi.IsDir(), errors.Is(err, fs.ErrNotExist) && strings.HasSuffix(path, string(filepath.Separator)):
		s.dir = true
		if err := os.MkdirAll(s.path, 0o700); err != nil {
			return nil, fmt.Errorf("auditor: state directory: %w", err)
		}
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("auditor: state: %w", err)
	}
	lockPath := s.path + ".lock"
	if s.dir {
		lockPath = filepath.Join(s.path, ".lock")
	}
	if s.lock, err = lockfile.Acquire(lockPath); err != nil {
		if errors.Is(err, lockfile.ErrLocked) {
			return nil, fmt.Errorf("auditor: the state %s is in use by another auditor (%w); give each auditor its own", path, err)
		}
		return nil, fmt.Errorf("auditor: state lock: %w", err)
	}
	if !s.dir {
		doc, err := readDoc(s.path)
		if err != nil {
			s.lock.Release()
			return nil, err
		}
		s.doc = doc
	}
	return s, nil
}

func (s *states) close() { s.lock.Release() }

// file is the state file of the log with key name.
func (s *states) file(name string) string {
	if !s.dir {
		return s.path
	}
	h := sha256.Sum256([]byte(name))
	slug := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' {
			return r
		}
		return '_'
	}, name)
	if len(slug) > 48 {
		slug = slug[len(slug)-48:]
	}
	return filepath.Join(s.path, strings.Trim(slug, "_.")+"-"+hex.EncodeToString(h[:6])+".json")
}

// load returns the state of the log named name, or nil if there is none.
func (s *states) load(name string) (*LogState, error) {
	doc := s.doc
	if s.dir {
		var err error
		if doc, err = readDoc(s.file(name)); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := doc.Logs[name]; st != nil {
		c := *st
		return &c, nil
	}
	return nil, nil
}

// save replaces the log's state, durably and atomically (temp file, fsync,
// rename, fsync of the directory).
func (s *states) save(st *LogState) error {
	c := *st
	s.mu.Lock()
	defer s.mu.Unlock()
	doc := &stateDoc{Format: StateFormat, Logs: map[string]*LogState{st.Log: &c}}
	if !s.dir {
		next := &stateDoc{Format: StateFormat, Logs: map[string]*LogState{}}
		for k, v := range s.doc.Logs {
			next.Logs[k] = v
		}
		next.Logs[st.Log] = &c
		doc = next
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	if err := durable.WriteFile(s.file(st.Log), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("auditor: saving the state: %w", err)
	}
	if !s.dir {
		s.doc = doc
	}
	return nil
}

// maxStateFile bounds a state file.
const maxStateFile = 16 << 20

// readDoc reads a state file; a missing one is an empty state.
func readDoc(path string) (*stateDoc, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &stateDoc{Format: StateFormat, Logs: map[string]*LogState{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("auditor: state: %w", err)
	}
	defer f.Close()
	var doc stateDoc
	dec := json.NewDecoder(&limited{f, maxStateFile})
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("auditor: state file %s is not an auditor's state: %v", path, err)
	}
	if doc.Format != StateFormat {
		return nil, fmt.Errorf("auditor: state file %s has format %q, want %q", path, doc.Format, StateFormat)
	}
	if doc.Logs == nil {
		doc.Logs = map[string]*LogState{}
	}
	return &doc, nil
}

// limited is an io.LimitReader that fails, rather than ends, at its limit.
type limited struct {
	f interface{ Read([]byte) (int, error) }
	n int64
}

func (l *limited) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errors.New("larger than 16 MiB")
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.f.Read(p)
	l.n -= int64(n)
	return n, err
}
