package layout

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

const meta = `{"format":"sealog/v1","origin":"ex.com/audit","key":"ex.com/audit+01234567+AQ","created":"2026-11-21T09:00:00Z"}`

func TestParseMetadata(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		ok        bool
	}{
		{"the writer's", meta, true},
		{"indented", strings.ReplaceAll(meta, ",", ",\n  "), true},
		{"created with a fraction and an offset", strings.Replace(meta, "09:00:00Z", "09:00:00.5+01:00", 1), true},
		{"a BOM", "\uFEFF" + meta, false},
		{"NaN", strings.Replace(meta, `{`, `{"x":NaN,`, 1), false},
		{"a duplicate", strings.Replace(meta, `{`, `{"format":"sealog/v1",`, 1), false},
		{"another case", strings.Replace(meta, `"format"`, `"Format"`, 1), false},
		{"an unknown member", strings.Replace(meta, `{`, `{"note":"x",`, 1), false},
		{"no created", strings.Replace(meta, `,"created":"2026-11-21T09:00:00Z"`, ``, 1), false},
		{"created not a time", strings.Replace(meta, `2026-11-21T09:00:00Z`, `yesterday`, 1), false},
		{"created on 31 November", strings.Replace(meta, `2026-11-21`, `2026-11-31`, 1), false},
		{"a leap second", strings.Replace(meta, `09:00:00Z`, `23:59:60Z`, 1), false},
		{"another format", strings.Replace(meta, `sealog/v1`, `sealog/v2`, 1), false},
		{"an origin with a space", strings.Replace(meta, `"ex.com/audit"`, `"ex.com audit"`, 1), false},
		{"an origin with +", strings.Replace(meta, `"ex.com/audit"`, `"ex.com+audit"`, 1), false},
		{"a lone surrogate", strings.Replace(meta, `"ex.com/audit"`, `"ex.com/\ud800"`, 1), false},
		{"trailing data", meta + "{}", false},
	} {
		_, err := ParseMetadata([]byte(tc.doc))
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v, want ok=%v", tc.name, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrBadMetadata) {
			t.Errorf("%s: %v is not ErrBadMetadata", tc.name, err)
		}
	}
}

func TestReadRegular(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	os.WriteFile(p, []byte("abc"), 0o644)
	if b, err := ReadRegular(p, 3); err != nil || string(b) != "abc" {
		t.Fatalf("%q %v", b, err)
	}
	if _, err := ReadRegular(p, 2); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("too large: %v", err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err == nil {
		if _, err := ReadRegular(fifo, 10); !errors.Is(err, ErrNotRegular) {
			t.Fatalf("FIFO: %v", err)
		}
	}
	link := filepath.Join(dir, "link")
	os.Symlink(p, link)
	if _, err := ReadRegular(link, 10); !errors.Is(err, ErrNotRegular) {
		t.Fatalf("symlink: %v", err)
	}
	if _, err := ReadRegular(filepath.Join(dir, "missing"), 10); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing: %v", err)
	}
}

func TestList(t *testing.T) {
	dir := t.TempDir()
	sd := filepath.Join(dir, SegmentsDir)
	os.Mkdir(sd, 0o755)
	for _, n := range []string{SegmentName(0, false), SegmentName(5, true), SegmentName(5, false), "spare", "notes.txt"} {
		os.WriteFile(filepath.Join(sd, n), nil, 0o644)
	}
	os.Mkdir(filepath.Join(sd, SegmentName(9, false)), 0o755)
	os.Symlink(filepath.Join(sd, SegmentName(0, false)), filepath.Join(sd, SegmentName(7, false)))
	os.WriteFile(filepath.Join(sd, "99999999999999999999.jsonl"), nil, 0o644)
	l, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Segments) != 2 || l.Segments[1].Compressed || len(l.Dups) != 1 || len(l.Bad) != 3 {
		t.Fatalf("%+v", l)
	}
	os.RemoveAll(sd)
	os.Symlink(t.TempDir(), sd)
	if _, err := List(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a symlinked segments directory: %v", err)
	}
}
