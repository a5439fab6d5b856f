package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"net/http/httptest"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/client"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/internal/testtsa"
	"github.com/sealog/sealog/layout"
)

// tsReport is the part of 'sealog verify --json' about timestamps.
type tsReport struct {
	Valid        bool    `json:"valid"`
	FirstInvalid *uint64 `json:"first_invalid"`
	Timestamps   []struct {
		Size    uint64    `json:"size"`
		From    uint64    `json:"from"`
		Time    time.Time `json:"time"`
		TSA     string    `json:"tsa"`
		Status  string    `json:"status"`
		Problem string    `json:"problem"`
	} `json:"timestamps"`
	TimestampedTo uint64 `json:"timestamped_to"`
	Problems      []struct {
		Reason string `json:"reason"`
	} `json:"problems"`
}

// ranges is the report's timestamps without their problems' wording
// (which names a row or a file), for comparing a database's report with
// its copy's.
func (r tsReport) ranges() string {
	var b strings.Builder
	for _, t := range r.Timestamps {
		fmt.Fprintf(&b, "%d-%d %s %s %s; ", t.From, t.Size, t.Status, t.Time.Format(time.RFC3339Nano), t.TSA)
	}
	fmt.Fprintf(&b, "to %d", r.TimestampedTo)
	return b.String()
}

func stampedRows(t *testing.T, db sqlTamperer) int64 {
	t.Helper()
	var n int64
	var err error
	switch db := db.(type) {
	case sqliteTamperer:
		err = db.db.QueryRow(`SELECT count(*) FROM timestamps`).Scan(&n)
	case pgTamperer:
		err = db.conn.QueryRow(db.ctx, `SELECT count(*) FROM timestamps`).Scan(&n)
	}
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestDatabaseTimestampsEndToEnd: 'sealog serve --store URL --tsa' over
// PostgreSQL and SQLite stores a token after each batch; 'sealog verify
// --tsa-roots' on the database reports each range and its time, and so
// does it on the directory 'sealog export-dir' makes, offline. A token
// deleted in SQL only shrinks the coverage; one replaced by the token of
// another checkpoint is tampering, named, with the first entry it no
// longer covers, in the database and in its copy.
func TestDatabaseTimestampsEndToEnd(t *testing.T) {
	authority, err := testtsa.New(testtsa.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tsaSrv := httptest.NewServer(authority)
	defer tsaSrv.Close()
	bin := sealogBinary(t)
	for _, kind := range databaseLogs {
		t.Run(kind.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
			defer cancel()
			dir := t.TempDir()
			roots := filepath.Join(dir, "tsa-roots.pem")
			if err := os.WriteFile(roots, authority.CAPEM, 0o644); err != nil {
				t.Fatal(err)
			}
			url, open := kind.make(t)
			s := startServe(t, ctx, filepath.Join(dir, "srv"), "--store", url, "--tsa", tsaSrv.URL, "--tsa-roots", roots)
			c, err := client.New(client.Config{URL: s.url, Token: s.token, VerifierKey: s.vkey})
			if err != nil {
				t.Fatal(err)
			}
			db := open()
			defer db.close()
			for b := range 3 {
				evs := make([]sealog.Event, 4)
				for i := range evs {
					evs[i] = sealog.Event{Kind: "k", Payload: map[string]int{"n": b*4 + i}}
				}
				if _, err := c.AppendBatch(ctx, evs); err != nil {
					t.Fatal(err)
				}
				testkit.Eventually(t, 20*time.Second, fmt.Sprintf("a timestamp after batch %d", b), func() bool { return stampedRows(t, db) == int64(b+1) })
			}
			c.Close()
			if code := s.stop(t, syscall.SIGTERM); code != 0 {
				t.Fatalf("SIGTERM: exit %d", code)
			}
			vkey := filepath.Join(dir, "log.pub")
			if err := os.WriteFile(vkey, []byte(s.vkey+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			run := binaryRunner(ctx, t, bin)
			verify := func(log string, wantCode int) tsReport {
				t.Helper()
				out, code := run("verify", log, "--key", vkey, "--tsa-roots", roots, "--json")
				if code != wantCode {
					t.Fatalf("verify %s: exit %d, want %d\n%s", log, code, wantCode, out)
				}
				var rep tsReport
				if err := json.NewDecoder(strings.NewReader(out[strings.Index(out, "{"):])).Decode(&rep); err != nil {
					t.Fatalf("%v\n%s", err, out)
				}
				return rep
			}
			copyOf := func(name string, wantStamps int) string {
				t.Helper()
				copyDir := filepath.Join(dir, name)
				out, code := run("export-dir", url, copyDir, "--json")
				if code != 0 {
					t.Fatalf("export-dir: exit %d\n%s", code, out)
				}
				var res struct{ Timestamps int }
				if err := json.NewDecoder(strings.NewReader(out)).Decode(&res); err != nil || res.Timestamps != wantStamps {
					t.Fatalf("export-dir copied %d timestamps (%v), want %d\n%s", res.Timestamps, err, wantStamps, out)
				}
				return copyDir
			}

			// Intact: three ranges, each proven by the TSA.
			rep := verify(url, 0)
			if !rep.Valid || rep.TimestampedTo != 12 || len(rep.Timestamps) != 3 {
				t.Fatalf("the intact log's report: %+v", rep)
			}
			for i, ts := range rep.Timestamps {
				if ts.Status != "ok" || ts.From != uint64(4*i) || ts.Size != uint64(4*i+4) || ts.TSA != "CN=sealog test TSA" || ts.Time.IsZero() {
					t.Fatalf("timestamp %d: %+v", i, ts)
				}
			}
			out, code := run("verify", url, "--key", vkey, "--tsa-roots", roots)
			if code != 0 || !strings.Contains(out, "entries 4 to 7 existed before") || !strings.Contains(out, "(CN=sealog test TSA)") {
				t.Fatalf("the text report: exit %d\n%s", code, out)
			}
			cp := copyOf("copy", 3)
			if _, err := os.Stat(filepath.Join(cp, layout.TimestampsDir, layout.TimestampName(8))); err != nil {
				t.Fatal(err)
			}
			if got := verify(cp, 0); got.ranges() != rep.ranges() {
				t.Fatalf("the copy's timestamps: %s\nthe database's: %s", got.ranges(), rep.ranges())
			}

			// An evidence bundle from the database carries the token of
			// its checkpoint.
			bfile := filepath.Join(dir, "evidence.json")
			if out, code := run("export", url, "--seq", "0,5", "-o", bfile, "--timestamped"); code != 0 {
				t.Fatalf("export --timestamped: exit %d\n%s", code, out)
			}
			if out, code := run("verify-bundle", bfile, "--key", vkey, "--tsa-roots", roots); code != 0 || !strings.Contains(out, "timestamp:   every entry existed before") {
				t.Fatalf("verify-bundle --tsa-roots: exit %d\n%s", code, out)
			}

			// A receipt from the database carries the token of its
			// checkpoint; one from a copy whose token of 4 is gone, the
			// token of 8 with that checkpoint and a consistency proof.
			// verify-proof checks either offline.
			noFour := copyOf("copy-no-4", 3)
			if err := os.Remove(filepath.Join(noFour, layout.TimestampsDir, layout.TimestampName(4))); err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct{ log, later string }{{url, ""}, {noFour, "\n8\n"}} {
				out, code := run("prove", c.log, "--seq", "1", "--size", "4", "--receipt")
				if code != 0 {
					t.Fatalf("prove --receipt %s: exit %d\n%s", c.log, code, out)
				}
				var r sealog.Receipt
				if err := json.Unmarshal([]byte(out), &r); err != nil || r.Timestamp == nil || len(r.Timestamp.TSR) == 0 {
					t.Fatalf("prove --receipt %s: %v\n%s", c.log, err, out)
				}
				if got := strings.Contains(r.Timestamp.Checkpoint, c.later); !got || (c.later == "") != (r.Timestamp.Checkpoint == "") {
					t.Fatalf("prove --receipt %s: the timestamp's checkpoint %q, want one of size 8: %t", c.log, r.Timestamp.Checkpoint, c.later != "")
				}
				rfile := filepath.Join(dir, "receipt.json")
				if err := os.WriteFile(rfile, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
				out, code = run("verify-proof", rfile, "--key", vkey, "--tsa-roots", roots)
				if code != 0 || !strings.Contains(out, "status:    VALID") || !strings.Contains(out, "entry 1 existed before") || !strings.Contains(out, "(CN=sealog test TSA)") {
					t.Fatalf("verify-proof of the receipt from %s: exit %d\n%s", c.log, code, out)
				}
				other, _ := testtsa.New(testtsa.Options{Name: "other"})
				otherRoots := filepath.Join(dir, "other.pem")
				os.WriteFile(otherRoots, other.CAPEM, 0o644)
				if out, code = run("verify-proof", rfile, "--key", vkey, "--tsa-roots", otherRoots); code != 1 || !strings.Contains(out, "INVALID") {
					t.Fatalf("verify-proof of the receipt from %s with another TSA's roots: exit %d\n%s", c.log, code, out)
				}
			}

			// A deleted token only shrinks the coverage.
			var tsr4 []byte
			switch db := db.(type) {
			case sqliteTamperer:
				err = db.db.QueryRow(`SELECT tsr FROM timestamps WHERE size = 4`).Scan(&tsr4)
			case pgTamperer:
				err = db.conn.QueryRow(db.ctx, `SELECT tsr FROM timestamps WHERE size = 4`).Scan(&tsr4)
			}
			if err != nil {
				t.Fatal(err)
			}
			db.exec(t, `DELETE FROM timestamps WHERE size = 12`)
			rep = verify(url, 0)
			if !rep.Valid || rep.TimestampedTo != 8 || len(rep.Timestamps) != 2 {
				t.Fatalf("after a token was deleted: %+v", rep)
			}
			out, _ = run("verify", url, "--key", vkey, "--tsa-roots", roots)
			if !strings.Contains(out, "entries 8 to 11 have no timestamp yet") {
				t.Fatalf("after a token was deleted, the text report:\n%s", out)
			}
			if got := verify(copyOf("copy-deleted", 2), 0); got.ranges() != rep.ranges() {
				t.Fatalf("the copy's timestamps: %s\nthe database's: %s", got.ranges(), rep.ranges())
			}
			out, code = run("prove", url, "--seq", "9", "--receipt")
			if code != 0 || !strings.Contains(out, "no RFC 3161 timestamp covers entry 9 yet") || strings.Contains(out, `"timestamp"`) {
				t.Fatalf("prove --receipt of an entry no token covers: exit %d\n%s", code, out)
			}

			// A token replaced by the one of another checkpoint: the
			// entries from the last good one on lose their time, and the
			// row is named.
			db.exec(t, `UPDATE timestamps SET tsr = ? WHERE size = 8`, tsr4)
			for _, log := range []string{url, copyOf("copy-replaced", 2)} {
				rep = verify(log, 1)
				if rep.Valid || rep.FirstInvalid == nil || *rep.FirstInvalid != 4 || rep.TimestampedTo != 4 || len(rep.Timestamps) != 2 || rep.Timestamps[1].Status != "bad" {
					t.Fatalf("verify %s after a token was replaced: %+v", log, rep)
				}
				name := "the timestamps row of size 8"
				if log != url {
					name = layout.TimestampsDir + "/" + layout.TimestampName(8)
				}
				if p := rep.Timestamps[1].Problem; !strings.Contains(p, name) || !strings.Contains(p, "not over the log's checkpoint of size 8") {
					t.Fatalf("verify %s: the bad token's problem: %q, want it to name %s", log, p, name)
				}
			}
		})
	}
}
