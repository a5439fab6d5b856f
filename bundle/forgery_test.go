package bundle_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealog/sealog/bundle"
	"github.com/sealog/sealog/format"
)

func vectorBundle(t *testing.T) *bundle.Bundle {
	t.Helper()
	b, err := bundle.ReadFile(filepath.Join(vectorDir, "vector.bundle"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// eraseLine returns the erased form of a live line whose body hash is
// known from the line itself (docs/FORMAT.md section 5).
func eraseLine(t *testing.T, line string) string {
	t.Helper()
	ln, err := format.ParseLine([]byte(line))
	if err != nil || ln.Erased {
		t.Fatalf("not a live line: %v", err)
	}
	e := format.Line{Seq: ln.Seq, Time: ln.Time, Prev: ln.Prev, Erased: true, BodyHash: ln.ComputeBodyHash(), Sig: ln.Sig}
	return strings.TrimSuffix(string(format.AppendLine(nil, &e)), "\n")
}

// TestBundleErasures: an erased entry in a bundle is valid only with the
// erasure record that names it, in the bundle too (issue 8, item 1).
func TestBundleErasures(t *testing.T) {
	key := vectorKey(t)
	if r := vectorBundle(t).Verify(key); !r.Valid {
		t.Fatalf("the vector bundle (entry 4 erased, its record 22) is invalid: %v", r.Problems)
	}
	drop := func(b *bundle.Bundle, seq uint64) {
		for i, e := range b.Entries {
			if e.Seq == seq {
				b.Entries = append(b.Entries[:i], b.Entries[i+1:]...)
				return
			}
		}
		t.Fatalf("no entry %d", seq)
	}
	for _, tc := range []struct {
		name   string
		tamper func(b *bundle.Bundle)
		bad    uint64
	}{
		{"the erasure record left out", func(b *bundle.Bundle) { drop(b, 22) }, 4},
		{"a live entry put in its erased form", func(b *bundle.Bundle) { b.Entries[0].Line = eraseLine(t, b.Entries[0].Line) }, 3},
		{"the erasure record itself erased", func(b *bundle.Bundle) {
			b.Entries[len(b.Entries)-1].Line = eraseLine(t, b.Entries[len(b.Entries)-1].Line)
		}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := vectorBundle(t)
			tc.tamper(b)
			r, err := bundle.Verify(b.Marshal(), key)
			if err != nil {
				t.Fatal(err)
			}
			if r.Valid {
				t.Fatal("a forged erasure verifies")
			}
			for _, e := range r.Entries {
				if e.Seq == tc.bad && (e.Verified || !strings.Contains(e.Problem, "erasure record")) {
					t.Fatalf("entry %d: %+v", tc.bad, e)
				}
			}
		})
	}
}

// TestBundleStrictJSON: members of one name twice, in any case, at either
// level, and unknown members are rejected (issue 8, item 4): Go's
// encoding/json alone would let "ENTRIES" stand in for "entries".
func TestBundleStrictJSON(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(vectorDir, "vector.bundle"))
	if err != nil {
		t.Fatal(err)
	}
	genuine := vectorBundle(t)
	forged := vectorBundle(t)
	forged.Entries = forged.Entries[:1]
	forged.Entries[0].Line = strings.Replace(forged.Entries[0].Line, "role.grant", "role.revoke", 1)
	fj, _ := json.Marshal(forged.Entries)
	gj, _ := json.Marshal(genuine.Entries)
	ej, _ := json.Marshal(genuine.Entries[0])
	entry := string(ej)
	for name, doc := range map[string]string{
		"entries and ENTRIES":        fmt.Sprintf(`{"bundle":%q,"origin":%q,"key":%q,"checkpoint":%q,"entries":%s,"ENTRIES":%s}`, bundle.Version, genuine.Origin, genuine.Key, genuine.Checkpoint, fj, gj),
		"entries twice":              fmt.Sprintf(`{"bundle":%q,"origin":%q,"key":%q,"checkpoint":%q,"entries":%s,"entries":%s}`, bundle.Version, genuine.Origin, genuine.Key, genuine.Checkpoint, fj, gj),
		"a line twice in an entry":   fmt.Sprintf(`{"bundle":%q,"origin":%q,"key":%q,"checkpoint":%q,"entries":[%s]}`, bundle.Version, genuine.Origin, genuine.Key, genuine.Checkpoint, strings.Replace(entry, `"line":`, `"line":"x","line":`, 1)),
		"a member in another case":   strings.Replace(string(data), `"origin"`, `"Origin"`, 1),
		"an unknown member":          strings.Replace(string(data), `"origin"`, `"comment": "x", "origin"`, 1),
		"an unknown member in entry": strings.Replace(string(data), `"seq": 3`, `"note": 1, "seq": 3`, 1),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := bundle.Parse([]byte(doc))
			if err == nil || errors.Is(err, bundle.ErrNotBundle) {
				t.Fatalf("got %v, want a malformed bundle", err)
			}
		})
	}
}

// TestBundleCosigners: a signature line the verifier did not check is
// never listed as a cosigner (issue 8, item 6).
func TestBundleCosigners(t *testing.T) {
	b := vectorBundle(t)
	b.Checkpoint += "— witness.example/w AAAAAAAAAAAAAAAA\n— auditor.example/a AAAAAAAAAAAAAAAA\n"
	r := b.Verify(vectorKey(t))
	out, _ := json.Marshal(r)
	if !r.Valid || r.Checkpoint.UnverifiedSignatures != 2 || bytes.Contains(out, []byte("witness.example")) || bytes.Contains(out, []byte("cosigner")) {
		t.Fatalf("%s", out)
	}
}

// TestReadLimited: the size limit is checked before the file is read
// (issue 8, item 15): a sparse file of 3 GiB is refused at once.
func TestReadLimited(t *testing.T) {
	p := filepath.Join(t.TempDir(), "huge.bundle")
	if err := os.WriteFile(p, []byte(`{"bundle":`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, 3<<30); err != nil {
		t.Skip(err)
	}
	start := time.Now()
	_, err := bundle.ReadFile(p)
	if !errors.Is(err, bundle.ErrTooLarge) || time.Since(start) > time.Second {
		t.Fatalf("got %v after %v", err, time.Since(start))
	}
}
