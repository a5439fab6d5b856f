package storeopen

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Kind is a kind of store.
type Kind string

// The kinds of store a name can name.
const (
	File     Kind = "file"
	Postgres Kind = "postgres"
	SQLite   Kind = "sqlite"
)

// Location is a parsed store name.
type Location struct {
	Kind Kind
	// Path is the directory (File) or the database file (SQLite).
	Path string
	// Conn is the PostgreSQL connection string, as given (Postgres).
	Conn string
}

// scheme matches a name that starts like a URL: scheme:// .
var scheme = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*)://`)

// Parse classifies name: a postgres:// or postgresql:// URL, a sqlite:
// URL (sqlite:///abs/path or sqlite:rel/path), or else a directory path.
// A name that starts like a URL of another scheme (mysql://…) is an
// error, not a directory named so.
func Parse(name string) (Location, error) {
	if name == "" {
		return Location{}, errors.New("storeopen: no log named")
	}
	lower := strings.ToLower(name)
	switch {
	case strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"):
		return Location{Kind: Postgres, Conn: name}, nil
	case strings.HasPrefix(lower, "sqlite:"):
		return parseSQLite(name)
	case strings.HasPrefix(lower, "file://"):
		u, err := url.Parse(name)
		if err != nil || u.Host != "" && u.Host != "localhost" || u.RawQuery != "" || u.Fragment != "" || u.Path == "" {
			return Location{}, fmt.Errorf("storeopen: %q: want file:///path/to/dir", name)
		}
		return Location{Kind: File, Path: u.Path}, nil
	}
	if m := scheme.FindStringSubmatch(name); m != nil {
		return Location{}, fmt.Errorf("storeopen: %q: unknown kind of store %q (want postgres://, postgresql://, sqlite: or a directory)", redact(name), m[1])
	}
	return Location{Kind: File, Path: name}, nil
}

// parseSQLite parses sqlite:///abs/path, sqlite://localhost/abs/path or
// sqlite:rel/path.
func parseSQLite(name string) (Location, error) {
	u, err := url.Parse(name)
	if err != nil {
		return Location{}, fmt.Errorf("storeopen: %q: %w", name, err)
	}
	bad := func(why string) (Location, error) {
		return Location{}, fmt.Errorf("storeopen: %q: %s (want sqlite:///abs/path.db or sqlite:rel/path.db)", name, why)
	}
	switch {
	case u.RawQuery != "" || u.Fragment != "":
		return bad("a SQLite URL takes no query or fragment")
	case u.Opaque != "":
		return Location{Kind: SQLite, Path: u.Opaque}, nil
	case u.Host != "" && u.Host != "localhost":
		return bad("the path must be on this host")
	case u.Path == "" || u.Path == "/":
		return bad("no file named")
	}
	return Location{Kind: SQLite, Path: u.Path}, nil
}

// String returns the location as a name that Parse reads back, with any
// password in a PostgreSQL URL replaced by xxxxx: for messages.
func (l Location) String() string {
	switch l.Kind {
	case Postgres:
		return redact(l.Conn)
	case SQLite:
		if strings.HasPrefix(l.Path, "/") {
			return "sqlite://" + l.Path
		}
		return "sqlite:" + l.Path
	default:
		return l.Path
	}
}

// redact replaces the password of a URL, in its user information or in a
// password parameter, by xxxxx.
func redact(name string) string {
	u, err := url.Parse(name)
	if err != nil {
		return name
	}
	changed := false
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
			changed = true
		}
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
		changed = true
	}
	if !changed {
		return name
	}
	return u.String()
}
