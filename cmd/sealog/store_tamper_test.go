package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite" // database/sql driver "sqlite", for the tampering

	"github.com/sealog/sealog/internal/testkit"
)

// sqlTamperer changes a database log's rows behind sealog's back, as
// anyone with SQL access could.
type sqlTamperer interface {
	exec(t *testing.T, q string, args ...any)
	line(t *testing.T, seq int64) []byte
	headCheckpoint(t *testing.T) []byte
	tables(t *testing.T) []string
	close()
}

type sqliteTamperer struct{ db *sql.DB }

func (s sqliteTamperer) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if _, err := s.db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func (s sqliteTamperer) line(t *testing.T, seq int64) (b []byte) {
	t.Helper()
	if err := s.db.QueryRow(`SELECT line FROM entries WHERE seq = ?`, seq).Scan(&b); err != nil {
		t.Fatal(err)
	}
	return b
}

func (s sqliteTamperer) headCheckpoint(t *testing.T) (b []byte) {
	t.Helper()
	if err := s.db.QueryRow(`SELECT checkpoint FROM head`).Scan(&b); err != nil {
		t.Fatal(err)
	}
	return b
}

func (s sqliteTamperer) close() { s.db.Close() }

func (s sqliteTamperer) tables(t *testing.T) (names []string) {
	rows, err := s.db.Query(`SELECT name FROM sqlite_schema WHERE type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	return names
}

type pgTamperer struct {
	ctx  context.Context
	conn *pgx.Conn
}

// pgArgs turns the ? placeholders the cases use into $1, $2, …
func pgArgs(q string) string {
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (p pgTamperer) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if _, err := p.conn.Exec(p.ctx, pgArgs(q), args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func (p pgTamperer) line(t *testing.T, seq int64) (b []byte) {
	t.Helper()
	if err := p.conn.QueryRow(p.ctx, `SELECT line FROM entries WHERE seq = $1`, seq).Scan(&b); err != nil {
		t.Fatal(err)
	}
	return b
}

func (p pgTamperer) headCheckpoint(t *testing.T) (b []byte) {
	t.Helper()
	if err := p.conn.QueryRow(p.ctx, `SELECT checkpoint FROM head`).Scan(&b); err != nil {
		t.Fatal(err)
	}
	return b
}

func (p pgTamperer) close() { p.conn.Close(p.ctx) }

func (p pgTamperer) tables(t *testing.T) (names []string) {
	rows, err := p.conn.Query(p.ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return names
}

// databaseLogs are the kinds of database a log can live in, each making
// a fresh place for one log and a tamperer for it.
var databaseLogs = []struct {
	name string
	make func(t *testing.T) (url string, open func() sqlTamperer)
}{
	{"sqlite", func(t *testing.T) (string, func() sqlTamperer) {
		path := filepath.Join(t.TempDir(), "audit.db")
		return "sqlite://" + path, func() sqlTamperer {
			db, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			return sqliteTamperer{db}
		}
	}},
	{"postgres", func(t *testing.T) (string, func() sqlTamperer) {
		url, schema := testkit.PostgresURL(t, "sealog_test_cli")
		return url, func() sqlTamperer {
			ctx := t.Context()
			conn, err := pgx.Connect(ctx, strings.Split(url, "&schema=")[0])
			if err != nil {
				t.Fatal(err)
			}
			if _, err := conn.Exec(ctx, `SET search_path TO `+pgx.Identifier{schema}.Sanitize()); err != nil {
				t.Fatal(err)
			}
			return pgTamperer{ctx, conn}
		}
	}},
}

// TestVerifyDatabaseTampering: a log in PostgreSQL or SQLite, written by
// the real sealog command in three batches of four entries, then changed
// in SQL the ways someone with access to the database could. `sealog
// verify URL` reads the stored rows as untrusted bytes and names the first
// invalid seq exactly as for a directory; the intact log is VALID.
func TestVerifyDatabaseTampering(t *testing.T) {
	cases := []struct {
		name   string
		tamper func(t *testing.T, db sqlTamperer)
		first  int64 // -1: no entry is named (the damage is in the head); -2: intact
		// noCopy: export-dir refuses to copy the log (exit 1).
		noCopy bool
	}{
		{"intact", func(t *testing.T, db sqlTamperer) {}, -2, false},
		{"update a payload", func(t *testing.T, db sqlTamperer) {
			l := db.line(t, 5)
			db.exec(t, `UPDATE entries SET line = ? WHERE seq = 5`, bytes.Replace(l, []byte(`"n":5`), []byte(`"n":6`), 1))
		}, 5, false},
		{"update a kind column only", func(t *testing.T, db sqlTamperer) {
			// The query columns are copies for indexes: changing them
			// changes no line, and the verifier reads only lines.
			db.exec(t, `UPDATE entries SET kind = 'other' WHERE seq = 5`)
		}, -2, false},
		{"delete a row", func(t *testing.T, db sqlTamperer) {
			db.exec(t, `DELETE FROM entries WHERE seq = 6`)
		}, 6, false},
		{"delete the last batch's rows", func(t *testing.T, db sqlTamperer) {
			db.exec(t, `DELETE FROM entries WHERE seq >= 8`)
		}, 8, false},
		{"insert a row at the end", func(t *testing.T, db sqlTamperer) {
			l := db.line(t, 11)
			db.exec(t, `INSERT INTO entries (seq, time_ns, leaf, nodes, line) VALUES (12, 0, ?, ?, ?)`, make([]byte, 32), []byte{}, bytes.Replace(l, []byte(`"seq":11`), []byte(`"seq":12`), 1))
		}, 12, false},
		{"insert an unsigned row at the end", func(t *testing.T, db sqlTamperer) {
			l := bytes.Replace(db.line(t, 10), []byte(`"seq":10`), []byte(`"seq":12`), 1)
			db.exec(t, `INSERT INTO entries (seq, time_ns, leaf, nodes, line) VALUES (12, 0, ?, ?, ?)`, make([]byte, 32), []byte{}, l)
		}, 12, true},
		{"swap two rows' seqs", func(t *testing.T, db sqlTamperer) {
			db.exec(t, `UPDATE entries SET seq = 1000 WHERE seq = 5`)
			db.exec(t, `UPDATE entries SET seq = 5 WHERE seq = 6`)
			db.exec(t, `UPDATE entries SET seq = 6 WHERE seq = 1000`)
		}, 5, false},
		{"replace a batch signature", func(t *testing.T, db sqlTamperer) {
			replaceSig(t, db, 7)
		}, 7, false},
		{"replace the last batch signature", func(t *testing.T, db sqlTamperer) {
			replaceSig(t, db, 11) // the head's checkpoint still proves the entries
		}, 11, false},
		{"rewrite the head row's checkpoint", func(t *testing.T, db sqlTamperer) {
			ck := db.headCheckpoint(t)
			lines := bytes.SplitN(ck, []byte("\n"), 4)
			lines[2] = []byte("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
			db.exec(t, `UPDATE head SET checkpoint = ?`, bytes.Join(lines, []byte("\n")))
		}, -1, false},
	}
	bin := sealogBinary(t)
	for _, kind := range databaseLogs {
		t.Run(kind.name, func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
					defer cancel()
					dir := t.TempDir()
					key := filepath.Join(dir, "k.key")
					url, open := kind.make(t)
					run := binaryRunner(ctx, t, bin)
					if out, code := run("keygen", "-o", key, "--name", "tamper.example/log"); code != 0 {
						t.Fatal(out)
					}
					if out, code := run("init", url, "--key", key); code != 0 {
						t.Fatal(out)
					}
					for b := range 3 {
						args := []string{"append", url, "--key", key}
						for i := range 4 {
							n := b*4 + i
							args = append(args, fmt.Sprintf(`{"kind":"k%d","actor":"a","payload":{"n":%d}}`, n, n))
						}
						if out, code := run(args...); code != 0 {
							t.Fatal(out)
						}
					}
					db := open()
					tc.tamper(t, db)
					db.close()
					check := func(what, log string) {
						t.Helper()
						out, code := run("verify", log, "--key", key+".pub", "--json", "--all-signatures")
						checkVerdict(t, what, out, code, tc.first)
					}
					check("verify "+kind.name, url)
					// The copy a directory holds verifies the same, with
					// sealog and with the independent Python verifier.
					copyDir := filepath.Join(dir, "copy")
					out, code := run("export-dir", url, copyDir)
					if tc.noCopy {
						if code != 1 {
							t.Fatalf("export-dir of a log with unsigned rows: exit %d, want 1\n%s", code, out)
						}
						if _, err := os.Stat(copyDir); err == nil {
							t.Fatalf("export-dir failed but left %s", copyDir)
						}
						return
					}
					if code != 0 {
						t.Fatalf("export-dir: exit %d\n%s", code, out)
					}
					check("verify the exported directory", copyDir)
					py := exec.CommandContext(ctx, "python3", "../../tools/verify.py", copyDir, "--key", key+".pub", "--json", "--all-signatures")
					pyOut, err := py.Output()
					pyCode := 0
					if ee, ok := err.(*exec.ExitError); ok {
						pyCode = ee.ExitCode()
					} else if err != nil {
						t.Fatal(err)
					}
					checkVerdict(t, "tools/verify.py on the exported directory", string(pyOut), pyCode, tc.first)
				})
			}
		})
	}
}

// replaceSig changes one byte of the batch signature in entry seq's line.
func replaceSig(t *testing.T, db sqlTamperer, seq int64) {
	t.Helper()
	l := db.line(t, seq)
	i := bytes.LastIndex(l, []byte(`"sig":"`))
	if i < 0 {
		t.Fatalf("entry %d has no signature to change: %s", seq, l)
	}
	mod := bytes.Clone(l)
	j := i + len(`"sig":"`) + 10 // inside the signature, past the key hash
	mod[j] = map[bool]byte{true: 'B', false: 'A'}[mod[j] == 'A']
	db.exec(t, `UPDATE entries SET line = ? WHERE seq = ?`, mod, seq)
}

func derefSeq(p *uint64) any {
	if p == nil {
		return nil
	}
	return *p
}

// checkVerdict checks a verifier's JSON report and exit code against what
// a case expects: first is -2 for an intact log, -1 for a tampered one
// with no entry named, else the first invalid seq.
func checkVerdict(t *testing.T, what, out string, code int, first int64) {
	t.Helper()
	var rep struct {
		Valid        bool    `json:"valid"`
		Verdict      string  `json:"verdict"`
		FirstInvalid *uint64 `json:"first_invalid"`
	}
	i, j := strings.Index(out, "{"), strings.LastIndex(out, "}")
	if i < 0 || j < i {
		t.Fatalf("%s: exit %d, no JSON report:\n%s", what, code, out)
	}
	if err := json.Unmarshal([]byte(out[i:j+1]), &rep); err != nil {
		t.Fatalf("%s: exit %d, no JSON report: %v\n%s", what, code, err, out)
	}
	switch {
	case first == -2:
		if code != 0 || !rep.Valid {
			t.Fatalf("%s: intact log: exit %d, verdict %s\n%s", what, code, rep.Verdict, out)
		}
	case code != 1 || rep.Valid || rep.Verdict != "tampered" && rep.Verdict != "":
		t.Fatalf("%s: exit %d, verdict %s; want 1, tampered\n%s", what, code, rep.Verdict, out)
	case first == -1:
	case rep.FirstInvalid == nil || *rep.FirstInvalid != uint64(first):
		t.Fatalf("%s: first invalid %v, want %d\n%s", what, derefSeq(rep.FirstInvalid), first, out)
	}
}

// TestQueryDatabaseIndexes: `sealog query` over a database uses its
// indexes and checks what they name against the lines; an index row
// changed in SQL to name another entry is an error, and --scan gives the
// complete answer even when a changed column hides an entry from the
// index.
func TestQueryDatabaseIndexes(t *testing.T) {
	bin := sealogBinary(t)
	for _, kind := range databaseLogs {
		t.Run(kind.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			dir := t.TempDir()
			key := filepath.Join(dir, "k.key")
			url, open := kind.make(t)
			run := func(args ...string) (string, int) {
				out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
				code := 0
				if ee, ok := err.(*exec.ExitError); ok {
					code = ee.ExitCode()
				} else if err != nil {
					t.Fatal(err)
				}
				return string(out), code
			}
			for _, args := range [][]string{{"keygen", "-o", key, "--name", "query.example/log"}, {"init", url, "--key", key}} {
				if out, code := run(args...); code != 0 {
					t.Fatal(out)
				}
			}
			args := []string{"append", url, "--key", key}
			for n := range 12 {
				args = append(args, fmt.Sprintf(`{"kind":"k%d","actor":"a%d"}`, n, n%2))
			}
			if out, code := run(args...); code != 0 {
				t.Fatal(out)
			}
			seqsOf := func(out string) []string {
				var seqs []string
				for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
					var e struct {
						Seq uint64 `json:"seq"`
					}
					if json.Unmarshal([]byte(l), &e) == nil && strings.HasPrefix(l, "{") {
						seqs = append(seqs, fmt.Sprint(e.Seq))
					}
				}
				return seqs
			}
			query := func(want int, wantSeqs string, args ...string) string {
				t.Helper()
				out, code := run(append([]string{"query", url, "--json"}, args...)...)
				if got := strings.Join(seqsOf(out), ","); code != want || code == 0 && got != wantSeqs {
					t.Fatalf("query %v: exit %d, seqs %q; want exit %d, seqs %q\n%s", args, code, got, want, wantSeqs, out)
				}
				return out
			}
			query(0, "5", "--kind", "k5")
			query(0, "1,3,5,7,9,11", "--actor", "a1")
			query(0, "3,5", "--actor", "a1", "--kind", "k[35]")

			db := open()
			db.exec(t, `UPDATE entries SET kind = 'k5' WHERE seq = 7`)
			db.close()
			if out := query(1, "", "--kind", "k5"); !strings.Contains(out, "index") {
				t.Fatalf("the error does not say the index disagrees with the line:\n%s", out)
			}
			query(0, "5", "--kind", "k5", "--scan")

			db = open()
			db.exec(t, `UPDATE entries SET kind = 'k7' WHERE seq = 7`)
			db.exec(t, `UPDATE entries SET kind = 'hidden' WHERE seq = 5`)
			db.close()
			query(0, "", "--kind", "k5")            // the index cannot show it...
			query(0, "5", "--kind", "k5", "--scan") // ...the lines do
		})
	}
}

// binaryRunner returns a function that runs the sealog binary bin with
// args under ctx and returns its stdout and stderr together and its exit
// code; an error that is not an exit status fails t.
func binaryRunner(ctx context.Context, t *testing.T, bin string) func(args ...string) (string, int) {
	return func(args ...string) (string, int) {
		t.Helper()
		cmd := exec.CommandContext(ctx, bin, args...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String() + errb.String(), code
	}
}
