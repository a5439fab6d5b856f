package compat

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Fuzz targets for each legacy parser, seeded from the fixtures. They check
// that nothing panics or hangs, and a few invariants.
//
//	go test -run '^$' -fuzz FuzzSpanforge -fuzztime 30s ./compat/

func fixtureFiles(f *testing.F, pattern string) [][]byte {
	paths, _ := filepath.Glob(filepath.Join(fixtureRoot, pattern))
	var out [][]byte
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, data)
	}
	if len(out) == 0 {
		f.Fatalf("no fixtures match %s", pattern)
	}
	return out
}

func fixtureLines(f *testing.F, pattern string) [][]byte {
	var out [][]byte
	for _, data := range fixtureFiles(f, pattern) {
		out = append(out, bytes.Split(data, []byte("\n"))...)
	}
	return out
}

func fuzzCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func FuzzJSONCanon(f *testing.F) {
	for _, l := range fixtureLines(f, "*/*/*.jsonl") {
		f.Add(l)
	}
	for _, l := range fixtureLines(f, "spine/*/wal/*.jsonl") {
		f.Add(l)
	}
	f.Add([]byte(`{"a":NaN,"b":-Infinity,"c":1e400,"d":"\ud800","e":-0}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var p jparser
		var c canonicalizer
		if p.parse(data) != nil {
			return
		}
		for _, m := range []canonMode{spanforgeCanon, spineCanon} {
			out, err := c.appendCanon(nil, &p, 0, m)
			if err != nil {
				continue
			}
			// The canonical form is a fixed point.
			var q jparser
			if err := q.parse(out); err != nil {
				t.Fatalf("canonical form %q does not parse: %v", out, err)
			}
			again, err := c.appendCanon(nil, &q, 0, m)
			if err != nil || !bytes.Equal(again, out) {
				t.Fatalf("canon not idempotent: %q -> %q (%v)", out, again, err)
			}
		}
	})
}

func FuzzSpanforge(f *testing.F) {
	for _, d := range fixtureFiles(f, "spanforge/*/audit.jsonl") {
		f.Add(d)
	}
	f.Add([]byte("{\"event_id\":\"a\",\"payload\":{}}\n\u2028\n\xff\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "audit.jsonl")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := Verify(fuzzCtx(t), Spanforge, path, Options{Trust: Trust{Secret: "sf-compat-shared-0f4c2a9e7b1d3c5a8e6f"}})
		if err != nil {
			t.Fatal(err)
		}
		checkReportShape(t, r)
	})
}

func FuzzSpine(f *testing.F) {
	for _, d := range fixtureFiles(f, "spine/*/wal/segment_*.jsonl") {
		f.Add(d, []byte(`{"seq": 6, "prev_hash": "x"}`))
	}
	keys, err := ParseTrust(fixtureFiles(f, "spine/keys.json")[0])
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, seg, state []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "segment_20260302_090003.jsonl"), seg, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "chain_state.json"), state, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := Verify(fuzzCtx(t), Spine, dir, Options{Trust: keys})
		if err != nil {
			t.Fatal(err)
		}
		checkReportShape(t, r)
	})
}

func FuzzImmutable(f *testing.F) {
	logs := fixtureFiles(f, "immutable-logging/*/app.log")
	sides := fixtureFiles(f, "immutable-logging/*/app.log.integrity")
	for i := range logs {
		f.Add(logs[i], sides[i])
	}
	f.Fuzz(func(t *testing.T, log, side []byte) {
		path := filepath.Join(t.TempDir(), "app.log")
		if err := os.WriteFile(path, log, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path+sidecarSuffix, side, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := Verify(fuzzCtx(t), ImmutableLogging, path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		checkReportShape(t, r)
		if want := bytes.Count(log, []byte("\n")); len(log) > 0 && log[len(log)-1] != '\n' {
			want++
			if r.Records != want {
				t.Fatalf("records = %d, want %d", r.Records, want)
			}
		}
	})
}

func FuzzISOTime(f *testing.F) {
	for _, s := range []string{"2026-03-02T09:00:02.617477+00:00", "2026-03-02T09:00:18+00:00", "2026-03-02 09:00:18Z", "2026-03-02T09:00:18.1-05:30"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ns, ok := parseISOTimeNS(s)
		if !ok {
			return
		}
		if tt, err := time.Parse(time.RFC3339Nano, s); err == nil && tt.Year() >= 1970 && tt.Year() < 2200 && tt.UnixNano()/1000 != ns/1000 {
			t.Fatalf("%q: %d, time.Parse says %d", s, ns, tt.UnixNano())
		}
	})
}

// checkReportShape checks invariants every report keeps.
func checkReportShape(t *testing.T, r *Report) {
	t.Helper()
	if r.Valid != (r.FirstInvalid == nil) || r.Valid != (len(r.Problems) == 0) {
		t.Fatalf("valid=%v first_invalid=%v problems=%d", r.Valid, r.FirstInvalid, len(r.Problems))
	}
	if r.FirstInvalid != nil && (*r.FirstInvalid < 0 || *r.FirstInvalid > r.Records) {
		t.Fatalf("first_invalid %d outside 0..%d", *r.FirstInvalid, r.Records)
	}
}
