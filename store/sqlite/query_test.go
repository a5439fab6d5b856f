package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/store/sqlite"
)

// TestQueryColumns: the entries table's kind, actor, resource and time_ns
// columns hold what each line says, queries on them use the indexes, the
// line is stored byte for byte, and an erasure clears the columns with
// the event.
func TestQueryColumns(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	skey, vkey := testkit.Keys("query", "query.example/log")
	k, err := sealog.ParseKey(skey)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "log.db")
	l, err := sealog.New(ctx, mustOpen(t, path, sqlite.Options{Origin: k.Origin(), Key: vkey}), sealog.Options{Key: k, Clock: testkit.Clock(time.Second), Rand: testkit.Rand(t.Name())})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var evs []sealog.Event
	for i := range 60 {
		evs = append(evs, sealog.Event{Kind: []string{"user.login", "doc.read", "doc.update"}[i%3], Actor: fmt.Sprintf("user%d", i%4), Resource: fmt.Sprintf("doc/%d", i%5), Payload: map[string]int{"i": i}})
	}
	evs[7].Actor, evs[8].Resource = "", ""
	for _, ev := range evs[:30] { // one time each
		if _, err := l.Append(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.AppendBatch(ctx, evs[30:]); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Erase(ctx, 9, "test"); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var all []sealog.Entry
	for e, err := range l.Entries(ctx, 0, 61) {
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, e)
	}
	for _, e := range all {
		var (
			line                  []byte
			kind, actor, resource sql.NullString
			timeNS                int64
		)
		if err := db.QueryRow(`SELECT line, kind, actor, resource, time_ns FROM entries WHERE seq = ?`, int64(e.Seq)).Scan(&line, &kind, &actor, &resource, &timeNS); err != nil {
			t.Fatal(err)
		}
		if string(line) != string(e.Line) {
			t.Fatalf("entry %d: the line column is %q, the entry's line %q", e.Seq, line, e.Line)
		}
		if kind.String != e.Kind || actor.String != e.Actor || resource.String != e.Resource || timeNS != e.Time.UnixNano() {
			t.Fatalf("entry %d: columns %q %q %q %d, the entry %q %q %q %d", e.Seq, kind.String, actor.String, resource.String, timeNS, e.Kind, e.Actor, e.Resource, e.Time.UnixNano())
		}
		if (e.Seq == 9) != e.Erased || e.Erased && (kind.Valid || actor.Valid || resource.Valid) {
			t.Fatalf("entry %d: erased %t, columns %v %v %v", e.Seq, e.Erased, kind, actor, resource)
		}
	}
	t0 := all[20].Time.UnixNano()
	for _, c := range []struct {
		where string
		args  []any
		index string
		match func(e sealog.Entry) bool
	}{
		{"kind = ?", []any{"doc.read"}, "entries_kind", func(e sealog.Entry) bool { return e.Kind == "doc.read" }},
		{"actor = ?", []any{"user1"}, "entries_actor", func(e sealog.Entry) bool { return e.Actor == "user1" }},
		{"resource = ?", []any{"doc/3"}, "entries_resource", func(e sealog.Entry) bool { return e.Resource == "doc/3" }},
		{"kind = ? AND time_ns >= ?", []any{"doc.read", t0}, "entries_kind", func(e sealog.Entry) bool { return e.Kind == "doc.read" && e.Time.UnixNano() >= t0 }},
		{"time_ns >= ?", []any{t0}, "entries_time", func(e sealog.Entry) bool { return e.Time.UnixNano() >= t0 }},
	} {
		var want int64
		for _, e := range all {
			if c.match(e) {
				want++
			}
		}
		q := `SELECT count(*) FROM entries WHERE ` + c.where
		var n int64
		if err := db.QueryRow(q, c.args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != want || n == 0 || n == int64(len(all)) {
			t.Errorf("%s %v: %d entries, want %d (of %d)", c.where, c.args, n, want, len(all))
		}
		rows, err := db.Query(`EXPLAIN QUERY PLAN `+q, c.args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			rows.Scan(&id, &parent, &notused, &detail)
			plan = append(plan, detail)
		}
		rows.Close()
		if p := strings.Join(plan, "\n"); !strings.Contains(p, c.index) {
			t.Errorf("%s: the plan does not use %s:\n%s", c.where, c.index, p)
		}
	}
}
