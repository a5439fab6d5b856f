package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/store/postgres"
)

// TestQueryColumns: the entries table's kind, actor, resource and time_ns
// columns hold what each line says, queries on them use the indexes, the
// line is stored byte for byte, and an erasure clears the columns with
// the event.
func TestQueryColumns(t *testing.T) {
	d := dsn(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	skey, vkey := testkit.Keys("query", "query.example/log")
	k, err := sealog.ParseKey(skey)
	if err != nil {
		t.Fatal(err)
	}
	schema := newSchema(t, d)
	st := open(t, d, schema, postgres.Options{Origin: k.Origin(), Key: vkey})
	l, err := sealog.New(ctx, st, sealog.Options{Key: k, Clock: testkit.Clock(time.Second), Rand: testkit.Rand(t.Name())})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var evs []sealog.Event
	for i := range 60 {
		evs = append(evs, sealog.Event{Kind: []string{"user.login", "doc.read", "doc.update"}[i%3], Actor: fmt.Sprintf("user%d", i%4), Resource: fmt.Sprintf("doc/%d", i%5), Payload: map[string]int{"i": i}})
	}
	evs[7].Actor, evs[8].Resource = "", "" // optional members
	for _, ev := range evs[:30] {          // one time each
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

	conn, err := pgx.Connect(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	entries := table(schema, "entries")
	var all []sealog.Entry
	for e, err := range l.Entries(ctx, 0, 61) {
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, e)
	}
	for _, e := range all {
		seq := e.Seq
		var (
			line                  []byte
			kind, actor, resource *string
			timeNS                int64
		)
		if err := conn.QueryRow(ctx, `SELECT line, kind, actor, resource, time_ns FROM `+entries+` WHERE seq = $1`, int64(seq)).Scan(&line, &kind, &actor, &resource, &timeNS); err != nil {
			t.Fatal(err)
		}
		if string(line) != string(e.Line) {
			t.Fatalf("entry %d: the line column is %q, the entry's line %q", seq, line, e.Line)
		}
		if str(kind) != e.Kind || str(actor) != e.Actor || str(resource) != e.Resource || timeNS != e.Time.UnixNano() {
			t.Fatalf("entry %d: columns %q %q %q %d, the entry %q %q %q %d", seq, str(kind), str(actor), str(resource), timeNS, e.Kind, e.Actor, e.Resource, e.Time.UnixNano())
		}
		if (seq == 9) != e.Erased || e.Erased && (kind != nil || actor != nil || resource != nil) {
			t.Fatalf("entry %d: erased %t, columns %v %v %v", seq, e.Erased, kind, actor, resource)
		}
	}

	t0 := all[20].Time.UnixNano()
	for _, c := range []struct {
		where string
		args  []any
		index string
		match func(e sealog.Entry) bool
	}{
		{"kind = $1", []any{"doc.read"}, "entries_kind", func(e sealog.Entry) bool { return e.Kind == "doc.read" }},
		{"actor = $1", []any{"user1"}, "entries_actor", func(e sealog.Entry) bool { return e.Actor == "user1" }},
		{"resource = $1", []any{"doc/3"}, "entries_resource", func(e sealog.Entry) bool { return e.Resource == "doc/3" }},
		{"kind = $1 AND time_ns >= $2", []any{"doc.read", t0}, "entries_kind", func(e sealog.Entry) bool { return e.Kind == "doc.read" && e.Time.UnixNano() >= t0 }},
		{"time_ns >= $1", []any{t0}, "entries_time", func(e sealog.Entry) bool { return e.Time.UnixNano() >= t0 }},
		{"resource LIKE $1", []any{"doc/1%"}, "entries_resource", func(e sealog.Entry) bool { return strings.HasPrefix(e.Resource, "doc/1") }},
	} {
		var want int64
		for _, e := range all {
			if c.match(e) {
				want++
			}
		}
		q := `SELECT count(*) FROM ` + entries + ` WHERE ` + c.where
		var n int64
		if err := conn.QueryRow(ctx, q, c.args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != want || n == 0 || n == int64(len(all)) {
			t.Errorf("%s %v: %d entries, want %d (of %d)", c.where, c.args, n, want, len(all))
		}
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tx.Exec(ctx, `SET LOCAL enable_seqscan = off`)
		rows, err := tx.Query(ctx, `EXPLAIN `+q, c.args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var s string
			rows.Scan(&s)
			plan = append(plan, s)
		}
		rows.Close()
		tx.Rollback(ctx)
		if p := strings.Join(plan, "\n"); !strings.Contains(p, c.index) {
			t.Errorf("%s: the plan does not use %s:\n%s", c.where, c.index, p)
		}
	}
}

func str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
