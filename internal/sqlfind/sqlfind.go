// Package sqlfind builds and pages the queries with which the SQL stores
// (store/postgres, store/sqlite) implement store.Finder: the same SQL in
// both, but for the placeholders.
package sqlfind

import (
	"fmt"
	"strings"

	"github.com/sealog/sealog/store"
)

// Page is how many seqs one query reads.
const Page = 1000

// Statements returns the first query for q over table (entries below
// size end), the query for each next page (its last two placeholders take
// the time and seq of the previous page's last row), and the first
// query's arguments. ph returns the placeholder for argument i (from 1).
// Entry times never decrease along seq, so (time_ns, seq) order is seq
// order, and the (column, time_ns) indexes serve it.
func Statements(table string, q store.Query, end uint64, ph func(i int) string) (first, next string, args []any) {
	var where []string
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, cond+" "+ph(len(args)))
	}
	for _, c := range []struct{ col, v string }{{"kind", q.Kind}, {"actor", q.Actor}, {"resource", q.Resource}} {
		if c.v != "" {
			add(c.col+" =", c.v)
		}
	}
	if q.Since != 0 {
		add("time_ns >=", q.Since)
	}
	if q.Until != 0 {
		add("time_ns <", q.Until)
	}
	add("seq >=", int64(q.From))
	add("seq <", int64(end))
	base := `SELECT time_ns, seq FROM ` + table + ` WHERE ` + strings.Join(where, " AND ")
	n := len(args)
	first = fmt.Sprintf(`%s ORDER BY time_ns, seq LIMIT %d`, base, Page)
	next = fmt.Sprintf(`%s AND (time_ns, seq) > (%s, %s) ORDER BY time_ns, seq LIMIT %d`, base, ph(n+1), ph(n+2), Page)
	return first, next, args
}

// Run pages through the matches: query runs the first statement (next
// false) or the next one after the row (lastT, lastSeq), and returns the
// page's rows as (time, seq) pairs. Run calls fn with each seq, at most
// limit of them (0: all).
func Run(limit int, query func(next bool, lastT, lastSeq int64) ([][2]int64, error), fn func(seq uint64) error) error {
	var lastT, lastSeq int64
	given := 0
	for next := false; ; next = true {
		rows, err := query(next, lastT, lastSeq)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if err := fn(uint64(r[1])); err != nil {
				return err
			}
			if given++; limit > 0 && given >= limit {
				return nil
			}
		}
		if len(rows) < Page {
			return nil
		}
		lastT, lastSeq = rows[len(rows)-1][0], rows[len(rows)-1][1]
	}
}
