package server

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sealog/sealog/internal/durable"
)

// Role is what a token may do. Admin may do everything.
type Role string

// The roles a token can have.
const (
	RoleAppend Role = "append" // POST /v1/entries
	RoleRead   Role = "read"   // the read endpoints
	RoleAdmin  Role = "admin"  // everything, including /metrics
)

// allows reports whether a token with role r may act as need.
func (r Role) allows(need Role) bool { return r == RoleAdmin || r == need }

// ParseRole parses a role name.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleAppend, RoleRead, RoleAdmin:
		return r, nil
	}
	return "", fmt.Errorf("unknown role %q (want append, read or admin)", s)
}

// TokenInfo describes a token as the tokens file keeps it: never the
// token itself, only its SHA-256.
type TokenInfo struct {
	ID      string     `json:"id"`
	Name    string     `json:"name"`
	Role    Role       `json:"role"`
	SHA256  string     `json:"sha256"` // hex SHA-256 of the whole token
	Created time.Time  `json:"created"`
	Revoked *time.Time `json:"revoked,omitempty"`
}

// ErrTokensPermissions is returned by OpenTokens for a tokens file that
// others can read or write.
var ErrTokensPermissions = errors.New("tokens file is accessible by others (want mode 0600)")

// tokenPrefix starts every token; the token ID follows, then '_' and the
// secret: sealog_<12 hex>_<43 base64url>.
const (
	tokenPrefix = "sealog_"
	idLen       = 12
	secretLen   = 43
	tokenLen    = len(tokenPrefix) + idLen + 1 + secretLen
)

// Tokens is a tokens file: JSON, mode 0600, holding each token's ID,
// name, role and SHA-256 (docs/API.md, "Authentication"). The server
// reloads it when it changes, so that 'sealog token revoke' takes effect
// on a running server within a second. Its methods are safe for
// concurrent use.
type Tokens struct {
	path string

	mu    sync.RWMutex // guards list, byID and stamp
	list  []TokenInfo
	byID  map[string]int // index into list
	stamp string         // the file's size and modification time when read

	checked atomic.Int64 // Unix ns of the last look at the file's stamp
}

type tokensFile struct {
	Version int         `json:"version"`
	Tokens  []TokenInfo `json:"tokens"`
}

// OpenTokens reads the tokens file at path. A missing file is an error
// wrapping fs.ErrNotExist; a file others may read is ErrTokensPermissions.
func OpenTokens(path string) (*Tokens, error) {
	t := &Tokens{path: path}
	if err := t.load(); err != nil {
		return nil, err
	}
	return t, nil
}

// CreateTokens creates an empty tokens file at path (mode 0600). It
// refuses to replace an existing file.
func CreateTokens(path string) (*Tokens, error) {
	b, _ := json.MarshalIndent(tokensFile{Version: 1, Tokens: []TokenInfo{}}, "", "  ")
	if err := durable.WriteNew(path, append(b, '\n'), 0o600); err != nil {
		return nil, fmt.Errorf("creating tokens file: %w", err)
	}
	return OpenTokens(path)
}

// Path returns the tokens file's path.
func (t *Tokens) Path() string { return t.path }

func stampOf(fi fs.FileInfo) string {
	return fmt.Sprintf("%d %d", fi.Size(), fi.ModTime().UnixNano())
}

func (t *Tokens) load() error {
	fi, err := os.Stat(t.path)
	if err != nil {
		return fmt.Errorf("tokens file: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("tokens file %s (mode %04o): %w", t.path, fi.Mode().Perm(), ErrTokensPermissions)
	}
	b, err := os.ReadFile(t.path)
	if err != nil {
		return fmt.Errorf("tokens file: %w", err)
	}
	var f tokensFile
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("tokens file %s: %w", t.path, err)
	}
	if f.Version != 1 {
		return fmt.Errorf("tokens file %s: version %d, want 1", t.path, f.Version)
	}
	byID := make(map[string]int, len(f.Tokens))
	for i, ti := range f.Tokens {
		if _, err := ParseRole(string(ti.Role)); err != nil {
			return fmt.Errorf("tokens file %s: token %s: %w", t.path, ti.ID, err)
		}
		if len(ti.ID) != idLen || len(ti.SHA256) != 2*sha256.Size {
			return fmt.Errorf("tokens file %s: token %d: malformed id or sha256", t.path, i)
		}
		byID[ti.ID] = i
	}
	t.mu.Lock()
	t.list, t.byID, t.stamp = f.Tokens, byID, stampOf(fi)
	t.mu.Unlock()
	return nil
}

// refresh reloads the file if it changed, looking at most once a second.
// A file that became unreadable keeps the tokens last read.
func (t *Tokens) refresh(now time.Time) error {
	last := t.checked.Load()
	if now.UnixNano()-last < int64(time.Second) || !t.checked.CompareAndSwap(last, now.UnixNano()) {
		return nil
	}
	fi, err := os.Stat(t.path)
	if err != nil {
		return fmt.Errorf("tokens file: %w", err)
	}
	t.mu.RLock()
	same := t.stamp == stampOf(fi)
	t.mu.RUnlock()
	if same {
		return nil
	}
	return t.load()
}

// Authenticate returns the token's info if token is a valid, unrevoked
// token of the file. The SHA-256 of the token is compared in constant
// time.
func (t *Tokens) Authenticate(token string) (TokenInfo, bool) {
	if len(token) != tokenLen || !strings.HasPrefix(token, tokenPrefix) || token[len(tokenPrefix)+idLen] != '_' {
		return TokenInfo{}, false
	}
	id := token[len(tokenPrefix) : len(tokenPrefix)+idLen]
	sum := sha256.Sum256([]byte(token))
	t.mu.RLock()
	i, ok := t.byID[id]
	var ti TokenInfo
	if ok {
		ti = t.list[i]
	}
	t.mu.RUnlock()
	want, err := hex.DecodeString(ti.SHA256)
	if !ok || err != nil || len(want) != sha256.Size {
		return TokenInfo{}, false
	}
	if subtle.ConstantTimeCompare(sum[:], want) != 1 || ti.Revoked != nil {
		return TokenInfo{}, false
	}
	return ti, true
}

// List returns every token's info, revoked ones included, in the order
// they were added.
func (t *Tokens) List() []TokenInfo {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return slices.Clone(t.list)
}

// Add makes a new token with the given name and role, records its hash
// in the file (durably) and returns the token: the only time it is ever
// shown.
func (t *Tokens) Add(name string, role Role, now time.Time) (string, TokenInfo, error) {
	if _, err := ParseRole(string(role)); err != nil {
		return "", TokenInfo{}, err
	}
	if name == "" || strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", TokenInfo{}, fmt.Errorf("token name %q: want a non-empty name without control characters", name)
	}
	var rnd [6 + 32]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", TokenInfo{}, err
	}
	id := hex.EncodeToString(rnd[:6])
	token := tokenPrefix + id + "_" + base64.RawURLEncoding.EncodeToString(rnd[6:])
	sum := sha256.Sum256([]byte(token))
	ti := TokenInfo{ID: id, Name: name, Role: role, SHA256: hex.EncodeToString(sum[:]), Created: now.UTC().Truncate(time.Second)}
	err := t.edit(func(list []TokenInfo) ([]TokenInfo, error) {
		for _, o := range list {
			if o.Name == name && o.Revoked == nil {
				return nil, fmt.Errorf("a token named %q exists already (revoke it first)", name)
			}
		}
		return append(list, ti), nil
	})
	if err != nil {
		return "", TokenInfo{}, err
	}
	return token, ti, nil
}

// Revoke marks the token with the given ID or name revoked, durably.
func (t *Tokens) Revoke(idOrName string, now time.Time) (TokenInfo, error) {
	var out TokenInfo
	err := t.edit(func(list []TokenInfo) ([]TokenInfo, error) {
		for i := range list {
			if (list[i].ID == idOrName || list[i].Name == idOrName) && list[i].Revoked == nil {
				ts := now.UTC().Truncate(time.Second)
				list[i].Revoked = &ts
				out = list[i]
				return list, nil
			}
		}
		return nil, fmt.Errorf("no active token with id or name %q", idOrName)
	})
	return out, err
}

// edit rereads the file, applies fn and writes the result atomically.
func (t *Tokens) edit(fn func([]TokenInfo) ([]TokenInfo, error)) error {
	if err := t.load(); err != nil {
		return err
	}
	list, err := fn(t.List())
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(tokensFile{Version: 1, Tokens: list}, "", "  ")
	if err != nil {
		return err
	}
	if err := durable.WriteFile(t.path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("writing tokens file: %w", err)
	}
	return t.load()
}
