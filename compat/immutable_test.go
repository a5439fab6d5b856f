package compat

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

func TestImmutableReadmeExample(t *testing.T) {
	got := ilSidecar([]string{"2026-03-02T11:00:00.751 [INFO] billing.api: service started version=1.4.2"})
	if !strings.HasPrefix(got, "1|sha256=07a5a3ab9f7264a9b4f144038cf213670270c2f3f5b5ea1d97f1be49d89fe8b9|prev=0000") {
		t.Fatalf("sidecar = %s", got)
	}
}

func ilLines(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("2026-03-02T11:00:%02d.751 [INFO] billing.api: event %d", i%60, i)
	}
	return out
}

func TestImmutableOddBytes(t *testing.T) {
	lines := []string{
		"2026-03-02T11:00:00.751 [INFO] a: vt\vff\ffs\x1cgs\x1drs\x1eesc\x1bnel\u0085ls\u2028ps\u2029 end",
		"", // blank lines are records
		"2026-03-02T11:00:01.751 [INFO] a: latin-1 caf\xe9 na\xefve",
		"2026-03-02T11:00:02.751 [INFO] a: not utf-8 \xff\xfe \xc3",
		"2026-03-02T11:00:03.751 [INFO] a: escaped \\n newline and C:\\\\temp and trailing CR\r",
		"2026-03-02T11:00:04.751 [INFO] a: message with |sha256=deadbeef|prev=0000",
	}
	path := filepath.Join(t.TempDir(), "app.log")
	writePair(t, path, lines)
	r := mustVerify(t, ImmutableLogging, path, Options{})
	want(t, r, true, -1, len(lines))
	if !hasWarning(r, WarnUnkeyedHashRewritable) || !hasWarning(r, WarnTailTruncationUndetectable) {
		t.Errorf("warnings = %v", r.Warnings)
	}
	if f, err := Detect(path); err != nil || f != ImmutableLogging {
		t.Errorf("Detect = %v, %v", f, err)
	}
	if _, err := Detect(path + sidecarSuffix); err == nil {
		t.Error("Detect(sidecar): want an error")
	}
}

func TestImmutableDamage(t *testing.T) {
	lines := ilLines(6)
	side := ilSidecar(lines)
	log := strings.Join(lines, "\n") + "\n"
	sideLines := strings.SplitAfter(side, "\n")
	cases := []struct {
		name, log, side string
		first, n        int
	}{
		{"final line without newline", strings.TrimSuffix(log, "\n"), side, -1, 6},
		{"log tail cut, sidecar intact", strings.Join(lines[:4], "\n") + "\n", side, 4, 4},
		{"sidecar tail cut", log, strings.Join(sideLines[:4], ""), 4, 6},
		{"both cut (undetectable)", strings.Join(lines[:4], "\n") + "\n", strings.Join(sideLines[:4], ""), -1, 4},
		{"malformed sidecar line", log, strings.Replace(side, "3|sha256=", "3|sha256:", 1), 2, 6},
		{"uppercase hex", log, strings.Replace(side, sideLines[1], strings.ToUpper(sideLines[1][:10])+sideLines[1][10:], 1), 1, 6},
		{"CRLF sidecar", log, strings.ReplaceAll(side, "\n", "\r\n"), 0, 6},
		{"entry number wrong", log, strings.Replace(side, "4|sha256=", "5|sha256=", 1), 3, 6},
		{"blank line inserted", strings.Replace(log, "\n", "\n\n", 1), side, 1, 7},
		{"line edited, sidecar recomputed (undetectable)", strings.Replace(log, "event 2", "event X", 1),
			ilSidecar(strings.Split(strings.Replace(strings.TrimSuffix(log, "\n"), "event 2", "event X", 1), "\n")), -1, 6},
		{"empty pair", "", "", -1, 0},
		{"empty log, sidecar has entries", "", side, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "app.log")
			writeFile(t, path, c.log)
			writeFile(t, path+sidecarSuffix, c.side)
			want(t, mustVerify(t, ImmutableLogging, path, Options{}), c.first < 0, c.first, c.n)
		})
	}
}

func TestImmutableMissing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	if _, err := Verify(t.Context(), ImmutableLogging, path, Options{}); err == nil {
		t.Error("missing log: want an error")
	}
	writeFile(t, path, strings.Join(ilLines(3), "\n")+"\n")
	want(t, mustVerify(t, ImmutableLogging, path, Options{}), false, 0, 3)
	writeFile(t, path, "")
	want(t, mustVerify(t, ImmutableLogging, path, Options{}), false, 0, 0)
}

func TestImmutableRotatedSets(t *testing.T) {
	sets := map[string][]string{
		"numbered":    {"app.log.3", "app.log.2", "app.log.1", "app.log"},
		"timestamped": {"app.log.20260301T235959-999999", "app.log.20260302T110000-000001", "app.log.20260302T110000-000001-1", "app.log.20260302T110000-000001-2", "app.log.20260302T110000-000001-10", "app.log"},
	}
	for name, files := range sets {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			var want []string
			for k, f := range files {
				want = append(want, filepath.Join(dir, f))
				writePair(t, want[k], ilLines(3+k))
			}
			// Files that are not part of the set.
			writeFile(t, filepath.Join(dir, "app.log.bak"), "x\n")
			writeFile(t, filepath.Join(dir, "other.log.1"), "x\n")
			path := want[len(want)-1]
			r := mustVerify(t, ImmutableLogging, path, Options{})
			if !r.Valid || strings.Join(r.Files, ",") != strings.Join(want, ",") {
				t.Fatalf("valid=%v files=%v, want %v", r.Valid, r.Files, want)
			}
			total := 0
			for k := range files {
				total += 3 + k
			}
			if r.Records != total {
				t.Errorf("records = %d, want %d", r.Records, total)
			}
			// Damage the second-oldest pair at its line 2.
			victim := want[1]
			lines := ilLines(4)
			lines[2] = "edited"
			writeFile(t, victim, strings.Join(lines, "\n")+"\n")
			r = mustVerify(t, ImmutableLogging, path, Options{})
			if r.Valid || *r.FirstInvalid != 2 || r.FirstInvalidFile != victim {
				t.Errorf("valid=%v first_invalid=%v file=%s, want 2 in %s", r.Valid, fmtInt(r.FirstInvalid), r.FirstInvalidFile, victim)
			}
			// A backup without its sidecar is invalid at 0.
			writePair(t, victim, ilLines(4))
			writeFile(t, want[0]+sidecarSuffix+".moved", "")
			removeFile(t, want[0]+sidecarSuffix)
			r = mustVerify(t, ImmutableLogging, path, Options{})
			if r.Valid || *r.FirstInvalid != 0 || r.FirstInvalidFile != want[0] {
				t.Errorf("missing sidecar: valid=%v first_invalid=%v file=%s", r.Valid, fmtInt(r.FirstInvalid), r.FirstInvalidFile)
			}
		})
	}
}

func TestImmutableAnchor(t *testing.T) {
	lines := ilLines(8)
	side := ilSidecar(lines)
	last := side[strings.LastIndex(side, "sha256=")+7:][:64]
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	writePair(t, path, lines[:6])
	anchor := func(s string) *Anchor {
		a, err := ParseAnchor([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return &a
	}
	r := mustVerify(t, ImmutableLogging, path, Options{})
	want(t, r, true, -1, 6)
	r = mustVerify(t, ImmutableLogging, path, Options{Anchor: anchor(fmt.Sprintf(`{"entries": 8, "last_sha256": %q}`, last))})
	want(t, r, false, 6, 6)
	if !r.TruncationChecked || hasWarning(r, WarnTailTruncationUndetectable) {
		t.Errorf("truncation_checked=%v warnings=%v", r.TruncationChecked, r.Warnings)
	}
	// Rewritten: same count, other head.
	writePair(t, path, append([]string{"rewritten"}, lines[1:]...))
	want(t, mustVerify(t, ImmutableLogging, path, Options{Anchor: anchor(fmt.Sprintf(`{"entries": 8, "last_sha256": %q}`, last))}), false, 7, 8)
	// Grown since the anchor: still fine.
	writePair(t, path, append(lines, "more"))
	want(t, mustVerify(t, ImmutableLogging, path, Options{Anchor: anchor(fmt.Sprintf(`{"entries": 8, "last_sha256": %q}`, last))}), true, -1, 9)
	// Per-file anchors in a rotated set.
	writePair(t, path+".1", lines[:5])
	writePair(t, path, lines)
	a := anchor(fmt.Sprintf(`{"files": {"app.log.1": {"entries": 6}, "app.log": {"entries": 8, "last_sha256": %q}}}`, last))
	r = mustVerify(t, ImmutableLogging, path, Options{Anchor: a})
	if r.Valid || *r.FirstInvalid != 5 || filepath.Base(r.FirstInvalidFile) != "app.log.1" {
		t.Errorf("valid=%v first_invalid=%v file=%s", r.Valid, fmtInt(r.FirstInvalid), r.FirstInvalidFile)
	}
}

func TestAnchorPointsBeforeFirstProblem(t *testing.T) {
	lines := ilLines(8)
	side := ilSidecar(lines)
	h2 := strings.Split(side, "\n")[2][len("3|sha256="):][:64]
	path := filepath.Join(t.TempDir(), "app.log")
	// Lines 0-2 rewritten with a recomputed sidecar, line 6 edited after.
	rewritten := append([]string{"a", "b", "c"}, lines[3:]...)
	writeFile(t, path+sidecarSuffix, ilSidecar(rewritten))
	rewritten[6] = "edited"
	writeFile(t, path, strings.Join(rewritten, "\n")+"\n")
	a, err := ParseAnchor([]byte(fmt.Sprintf(`{"entries": 3, "last_sha256": %q}`, h2)))
	if err != nil {
		t.Fatal(err)
	}
	want(t, mustVerify(t, ImmutableLogging, path, Options{}), false, 6, 8)
	want(t, mustVerify(t, ImmutableLogging, path, Options{Anchor: &a}), false, 2, 8)
}
