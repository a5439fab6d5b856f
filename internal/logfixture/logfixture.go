// Package logfixture builds deterministic sealog logs for tests, and
// tampers with them the way an operator holding the signing key could:
// the same seed and the same events give byte-identical entries, so a
// log rebuilt from the same seed with other events after some point is a
// fork of the first (rewritten from there and re-signed), and one rebuilt
// with fewer events is the first cut back and re-signed.
package logfixture

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/layout"
	storeopen "github.com/sealog/sealog/store/open"

	_ "modernc.org/sqlite" // the driver EditSQLiteLine uses
)

// Origin is the fixtures' log origin.
const Origin = "audit.example/log"

// Keys returns the fixtures' signer and verifier keys.
func Keys() (skey, vkey string) { return testkit.Keys("logfixture", Origin) }

// Events returns n events numbered from first, tagged (so that two runs
// with different tags write different events).
func Events(first, n int, tag string) []sealog.Event {
	evs := make([]sealog.Event, n)
	for i := range evs {
		evs[i] = sealog.Event{Kind: "user.login", Actor: fmt.Sprintf("user-%d", first+i), Resource: tag,
			Payload: map[string]any{"n": first + i, "tag": tag}}
	}
	return evs
}

// Phase is one opening of a log: the batches appended before it is
// closed, with salts and clock seeded by Seed.
type Phase struct {
	Seed    string
	Batches [][]sealog.Event
}

// Build opens the log named name (a directory or a storeopen URL),
// creating it, and appends each phase's batches, closing it after each.
func Build(t testing.TB, name string, phases ...Phase) {
	t.Helper()
	if err := Make(name, phases...); err != nil {
		t.Fatal(err)
	}
}

// Make is Build, returning the error.
func Make(name string, phases ...Phase) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	skey, vkey := Keys()
	key, err := sealog.ParseKey(skey)
	if err != nil {
		return err
	}
	loc, err := storeopen.Parse(name)
	if err != nil {
		return err
	}
	for _, ph := range phases {
		opts := sealog.Options{Key: key, Clock: testkit.Clock(time.Millisecond), Rand: testkit.Rand(ph.Seed)}
		var l *sealog.Log
		if loc.Kind == storeopen.File {
			l, err = sealog.Open(name, opts)
		} else {
			st, oerr := storeopen.Open(ctx, name, storeopen.Options{Origin: Origin, Key: vkey})
			if oerr != nil {
				return oerr
			}
			l, err = sealog.New(ctx, st, opts)
		}
		if err != nil {
			return err
		}
		for _, b := range ph.Batches {
			if _, err := l.AppendBatch(ctx, b); err != nil {
				l.Close()
				return err
			}
		}
		if err := l.Close(); err != nil {
			return err
		}
	}
	return nil
}

// EditDirLine replaces old by new in the line of entry seq of the log in
// dir (it must occur there), in place: what anyone with write access to
// the files can do.
func EditDirLine(t testing.TB, dir string, seq uint64, old, new string) {
	t.Helper()
	l, err := layout.List(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(l.Segments) - 1; i >= 0; i-- {
		sg := l.Segments[i]
		if sg.First > seq {
			continue
		}
		b, err := os.ReadFile(sg.Path)
		if err != nil {
			t.Fatal(err)
		}
		lines := bytes.SplitAfter(b, []byte("\n"))
		n := int(seq - sg.First)
		if n >= len(lines) || !bytes.Contains(lines[n], []byte(old)) {
			t.Fatalf("entry %d's line does not contain %q", seq, old)
		}
		lines[n] = bytes.Replace(lines[n], []byte(old), []byte(new), 1)
		// Replaced whole, by a rename: a reader sees the old file or the
		// new one, never half of it.
		tmp := sg.Path + ".edit"
		if err := os.WriteFile(tmp, bytes.Join(lines, nil), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, sg.Path); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("no segment holds entry %d", seq)
}

// ReplaceDir puts the log directory src in dst's place, by two renames
// (dst away, src in), so that a reader finds one log or the other, or
// for an instant none.
func ReplaceDir(t testing.TB, dst, src string) {
	t.Helper()
	old := dst + ".replaced"
	if err := os.Rename(dst, old); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(src, dst); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(old); err != nil {
		t.Fatal(err)
	}
}

// ReplaceSQLite puts the SQLite database file src in dst's place.
func ReplaceSQLite(t testing.TB, dst, src string) {
	t.Helper()
	for _, sfx := range []string{"-wal", "-shm"} {
		os.Remove(dst + sfx)
		if _, err := os.Stat(src + sfx); err == nil {
			t.Fatalf("%s%s exists: the log was not closed", src, sfx)
		}
	}
	if err := os.Rename(src, dst); err != nil {
		t.Fatal(err)
	}
}

// TreeHash returns a hash of every file under dir (names, modes and
// contents), to show that a reader wrote nothing.
func TreeHash(t testing.TB, dir string) string {
	t.Helper()
	var buf bytes.Buffer
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fmt.Fprintf(&buf, "%s %v %d\n", rel, fi.Mode(), fi.Size())
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			buf.Write(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", sha256Sum(buf.Bytes()))
}

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }

// EditSQLiteLine replaces old by new in the stored line of entry seq in
// the SQLite log named name (sqlite:…), with SQL: what anyone with write
// access to the database can do.
func EditSQLiteLine(t testing.TB, name string, seq uint64, old, new string) {
	t.Helper()
	loc, err := storeopen.Parse(name)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", loc.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := db.Exec(`UPDATE entries SET line = CAST(replace(CAST(line AS TEXT), ?, ?) AS BLOB) WHERE seq = ? AND instr(CAST(line AS TEXT), ?) > 0`, old, new, seq, old)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("entry %d's line does not contain %q", seq, old)
	}
}

// OtherKeys returns a second key pair for the same origin: another key
// than the log's.
func OtherKeys() (skey, vkey string) { return testkit.Keys("logfixture other", Origin) }
