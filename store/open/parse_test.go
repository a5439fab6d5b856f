package storeopen_test

import (
	"strings"
	"testing"

	storeopen "github.com/sealog/sealog/store/open"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		name string
		want storeopen.Location
		str  string // String(), if not name
	}{
		{"postgres://u@db.example/audit?schema=prod", storeopen.Location{Kind: storeopen.Postgres, Conn: "postgres://u@db.example/audit?schema=prod"}, ""},
		{"postgresql://u@db.example/audit", storeopen.Location{Kind: storeopen.Postgres, Conn: "postgresql://u@db.example/audit"}, ""},
		{"POSTGRES://u@h/d", storeopen.Location{Kind: storeopen.Postgres, Conn: "POSTGRES://u@h/d"}, ""},
		{"postgres://u:secret@h/d", storeopen.Location{Kind: storeopen.Postgres, Conn: "postgres://u:secret@h/d"}, "postgres://u:xxxxx@h/d"},
		{"postgres://u@h/d?password=secret", storeopen.Location{Kind: storeopen.Postgres, Conn: "postgres://u@h/d?password=secret"}, "postgres://u@h/d?password=xxxxx"},
		{"sqlite:///var/lib/audit.db", storeopen.Location{Kind: storeopen.SQLite, Path: "/var/lib/audit.db"}, ""},
		{"sqlite://localhost/var/lib/audit.db", storeopen.Location{Kind: storeopen.SQLite, Path: "/var/lib/audit.db"}, "sqlite:///var/lib/audit.db"},
		{"sqlite:audit.db", storeopen.Location{Kind: storeopen.SQLite, Path: "audit.db"}, ""},
		{"sqlite:data/audit.db", storeopen.Location{Kind: storeopen.SQLite, Path: "data/audit.db"}, ""},
		{"/var/lib/audit", storeopen.Location{Kind: storeopen.File, Path: "/var/lib/audit"}, ""},
		{"./audit", storeopen.Location{Kind: storeopen.File, Path: "./audit"}, ""},
		{"audit", storeopen.Location{Kind: storeopen.File, Path: "audit"}, ""},
		{"logs:2027", storeopen.Location{Kind: storeopen.File, Path: "logs:2027"}, ""},
		{"file:///var/lib/audit", storeopen.Location{Kind: storeopen.File, Path: "/var/lib/audit"}, "/var/lib/audit"},
	} {
		got, err := storeopen.Parse(c.name)
		if err != nil || got != c.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", c.name, got, err, c.want)
			continue
		}
		want := c.str
		if want == "" {
			want = c.name
		}
		if got.String() != want {
			t.Errorf("Parse(%q).String() = %q, want %q", c.name, got.String(), want)
		}
	}
	for _, c := range []struct{ name, want string }{
		{"", "no log named"},
		{"mysql://u@h/d", `unknown kind of store "mysql"`},
		{"mysql://u:secret@h/d", "u:xxxxx@h"},
		{"sqlite://", "no file named"},
		{"sqlite:///", "no file named"},
		{"sqlite://db.example/audit.db", "on this host"},
		{"sqlite:///a.db?mode=ro", "no query"},
		{"file://host/dir", "file:///path"},
	} {
		_, err := storeopen.Parse(c.name)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q): %v, want an error with %q", c.name, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("Parse(%q): the error shows the password: %v", c.name, err)
		}
	}
}
