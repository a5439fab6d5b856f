package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// The tests in this file run the built sealog binary (sealogBinary) in
// real processes, each with a deadline.

// bin runs the built binary in dir with stdin and returns its exit code,
// stdout and stderr.
func bin(t *testing.T, dir, stdin string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, sealogBinary(t), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SEALOG_KEY=", "SPANFORGE_HMAC_SECRET=")
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), stdout.String(), stderr.String()
	case err != nil:
		t.Fatalf("sealog %v: %v", args, err)
	}
	return 0, stdout.String(), stderr.String()
}

// mustBin is bin that wants exit code want.
func mustBin(t *testing.T, want int, dir, stdin string, args ...string) (string, string) {
	t.Helper()
	code, stdout, stderr := bin(t, dir, stdin, args...)
	if code != want {
		t.Fatalf("sealog %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, stdout, stderr)
	}
	return stdout, stderr
}

// binLog makes key k and log "log" in dir with n events in batches of 3
// (actor a0..a2 in turn).
func binLog(t *testing.T, dir string, n int) {
	t.Helper()
	mustBin(t, 0, dir, "", "keygen", "-o", "k", "--name", "ex.com/audit")
	mustBin(t, 0, dir, "", "init", "log", "--key", "k")
	appendN(t, dir, 0, n)
}

// appendN appends events from..from+n-1 in batches of 3.
func appendN(t *testing.T, dir string, from, n int) {
	t.Helper()
	for i := from; i < from+n; i += 3 {
		var evs []string
		for j := i; j < min(i+3, from+n); j++ {
			evs = append(evs, fmt.Sprintf(`{"kind":"t.event","actor":"a%d","payload":{"i":%d}}`, j%3, j))
		}
		mustBin(t, 0, dir, "", append([]string{"append", "log", "--key", "k"}, evs...)...)
	}
}

func decodeReport(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("not a JSON report: %v\n%s", err, s)
	}
	return m
}

// jsonPaths lists the field paths of v: "a.b", "a[].b", an empty array
// as "a[]".
func jsonPaths(v any, prefix string, out map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, y := range x {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			jsonPaths(y, p, out)
		}
	case []any:
		if len(x) == 0 {
			out[prefix+"[]"] = true
		}
		for _, y := range x {
			jsonPaths(y, prefix+"[]", out)
		}
	default:
		out[prefix] = true
	}
}

// TestVerifyJSONDocumented compares the table of the verify report's
// fields in docs/CLI.md with the keys of real reports: of a valid log
// with erasures, a trusted checkpoint and a state file, and of a tampered
// one. Every key printed is documented, and every documented key is
// printed by one of them unless the table says it may be omitted.
func TestVerifyJSONDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/CLI.md")
	if err != nil {
		t.Fatal(err)
	}
	sec := string(doc)
	i := strings.Index(sec, "### The verify report (JSON)")
	if i < 0 {
		t.Fatal("docs/CLI.md has no section \"The verify report (JSON)\"")
	}
	sec = sec[i:]
	if j := strings.Index(sec[1:], "\n#"); j > 0 {
		sec = sec[:j+1]
	}
	documented := map[string]string{} // path -> meaning
	for _, m := range regexp.MustCompile("(?m)^\\| `([^`]+)` \\| [^|]+ \\| (.*) \\|$").FindAllStringSubmatch(sec, -1) {
		documented[m[1]] = m[2]
	}
	if len(documented) < 50 {
		t.Fatalf("found %d documented fields, want the whole report", len(documented))
	}
	dir := t.TempDir()
	binLog(t, dir, 9)
	mustBin(t, 0, dir, "", "erase", "log", "--key", "k", "--seq", "1", "--reason", "r", "--requested-by", "dpo")
	ck, _ := mustBin(t, 0, dir, "", "checkpoint", "log")
	if err := os.WriteFile(filepath.Join(dir, "saved.ckpt"), []byte(ck), 0o644); err != nil {
		t.Fatal(err)
	}
	mustBin(t, 0, dir, "", "verify", "log", "--key", "k.pub", "--state", "st", "--json")
	appendN(t, dir, 9, 3)
	var reports []string
	out, _ := mustBin(t, 0, dir, "", "verify", "log", "--key", "k.pub", "--checkpoint", "saved.ckpt", "--state", "st", "--json")
	reports = append(reports, out)
	out, _ = mustBin(t, 0, dir, "", "verify", "log", "--key", strings.TrimSpace(readFile(t, filepath.Join(dir, "k.pub"))), "--json")
	reports = append(reports, out)
	seg := filepath.Join(dir, "log", "segments", "00000000000000000000.jsonl")
	b := []byte(readFile(t, seg))
	if err := os.WriteFile(seg, bytes.Replace(b, []byte(`"i":4`), []byte(`"i":5`), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	cmdDelLineFile(t, seg, 8) // entry 7: a gap
	out, _ = mustBin(t, 1, dir, "", "verify", "log", "--key", "k.pub", "--state", "st", "--full", "--json")
	reports = append(reports, out)
	seen := map[string]bool{}
	for _, r := range reports {
		m := decodeReport(t, r)
		if m["report_format"] != "sealog-verify-report/v1" {
			t.Errorf("report_format %v", m["report_format"])
		}
		jsonPaths(m, "", seen)
	}
	for p := range seen {
		if _, ok := documented[p]; ok {
			continue
		}
		if base, ok := strings.CutSuffix(p, "[]"); ok && hasPrefixKey(documented, base+"[]") {
			continue // an empty array whose elements are documented
		}
		if hasPrefixKey(documented, p+".") {
			continue // a null object whose fields are documented
		}
		t.Errorf("the report prints %q, which docs/CLI.md does not document", p)
	}
	var missing []string
	for p, meaning := range documented {
		if !seen[p] && !strings.Contains(meaning, "*omitted*") && !strings.Contains(meaning, " is null ") && !strings.Contains(meaning, " is *omitted*") {
			missing = append(missing, p)
		}
	}
	sort.Strings(missing)
	for _, p := range missing {
		t.Errorf("docs/CLI.md documents %q, but no report printed it (mark it *omitted* if it may be left out)", p)
	}
}

// cmdDelLineFile deletes line n (from 1) of path.
func cmdDelLineFile(t *testing.T, path string, n int) {
	t.Helper()
	lines := strings.SplitAfter(readFile(t, path), "\n")
	if err := os.WriteFile(path, []byte(strings.Join(append(lines[:n-1], lines[n:]...), "")), 0o644); err != nil {
		t.Fatal(err)
	}
}

func hasPrefixKey(m map[string]string, prefix string) bool {
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestVerifyState covers --state on the built binary: a first run saves,
// later runs are incremental, a rollback and a fork are reported with both
// checkpoints and the proof, and the file changes only on success.
func TestVerifyState(t *testing.T) {
	dir := t.TempDir()
	binLog(t, dir, 6)
	st := filepath.Join(dir, "audit.state")
	out, _ := mustBin(t, 0, dir, "", "verify", "log", "--key", "k.pub", "--state", st, "--json")
	r := decodeReport(t, out)
	s := r["state"].(map[string]any)
	if s["result"] != "saved" || s["mode"] != "full" || s["updated"] != true || s["saved"] != nil {
		t.Fatalf("first run: state %v", s)
	}
	if fi, err := os.Stat(st); err != nil || fi.Size() == 0 {
		t.Fatalf("state file not written: %v", err)
	}
	saved6 := readFile(t, st)

	// Nothing new: unchanged, incremental.
	out, _ = mustBin(t, 0, dir, "", "verify", "log", "--key", "k.pub", "--state", st, "--json")
	s = decodeReport(t, out)["state"].(map[string]any)
	if s["result"] != "unchanged" || s["mode"] != "incremental" {
		t.Errorf("second run: state %v", s)
	}

	// New entries: only they are read, and the proof verifies.
	appendN(t, dir, 6, 6)
	mustBin(t, 0, dir, "", "erase", "log", "--key", "k", "--seq", "7,8", "--reason", "gdpr", "--requested-by", "dpo")
	out, _ = mustBin(t, 0, dir, "", "verify", "log", "--key", "k.pub", "--state", st, "--json")
	r = decodeReport(t, out)
	s = r["state"].(map[string]any)
	if s["result"] != "consistent" || s["mode"] != "incremental" || s["consistency_proof_ok"] != true || s["entries_not_reread"] != 6.0 {
		t.Errorf("incremental run: state %v", s)
	}
	if r["entries"] != 8.0 || r["authenticated"] != 14.0 || r["erased_count"] != 2.0 {
		t.Errorf("incremental run: entries %v authenticated %v erased %v", r["entries"], r["authenticated"], r["erased_count"])
	}
	if len(s["consistency_proof"].([]any)) == 0 {
		t.Error("no consistency proof in the report")
	}
	// The full run agrees.
	out, _ = mustBin(t, 0, dir, "", "verify", "log", "--key", "k.pub", "--state", st, "--full", "--json")
	r = decodeReport(t, out)
	if s := r["state"].(map[string]any); s["mode"] != "full" || s["result"] != "unchanged" || r["erased_count"] != 2.0 {
		t.Errorf("full run: state %v, erased %v", s, r["erased_count"])
	}
	saved14 := readFile(t, st)
	ck14, _ := mustBin(t, 0, dir, "", "checkpoint", "log")
	if err := os.WriteFile(filepath.Join(dir, "saved14.ckpt"), []byte(ck14), 0o644); err != nil {
		t.Fatal(err)
	}
	if saved14 == saved6 {
		t.Fatal("the state file was not updated")
	}

	// A rollback: the log cut back to its first 6 entries, checkpoint
	// file included, verifies alone but not against the state.
	roll := filepath.Join(dir, "rolled")
	mustCopy(t, filepath.Join(dir, "log"), roll)
	segs, _ := filepath.Glob(filepath.Join(roll, "segments", "*"))
	for _, p := range segs[1:] {
		os.Remove(p)
	}
	seg := segs[0]
	lines := strings.SplitAfter(readFile(t, seg), "\n")
	if err := os.WriteFile(seg, []byte(strings.Join(lines[:6], "")), 0o644); err != nil {
		t.Fatal(err)
	}
	var old stateFile
	if err := json.Unmarshal([]byte(saved6), &old); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(roll, "checkpoint"), []byte(old.Checkpoint), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"hashes", "index"} {
		os.Remove(filepath.Join(roll, f)) // derived files; the verifier needs none
	}
	mustBin(t, 0, dir, "", "verify", "rolled", "--key", "k.pub")
	out, _ = mustBin(t, 1, dir, "", "verify", "rolled", "--key", "k.pub", "--state", st, "--json")
	r = decodeReport(t, out)
	s = r["state"].(map[string]any)
	if s["result"] != "rollback" || s["updated"] != false || r["truncated"] != true || s["saved"] == nil ||
		s["current"].(map[string]any)["size"] != 6.0 || s["consistency_proof_ok"] != false {
		t.Errorf("rollback: state %v, truncated %v", s, r["truncated"])
	}
	text, _ := mustBin(t, 1, dir, "", "verify", "rolled", "--key", "k.pub", "--state", st)
	if !strings.Contains(text, "ROLLBACK") || !strings.Contains(text, "saved:   size 14") {
		t.Errorf("rollback text report:\n%s", text)
	}
	if readFile(t, st) != saved14 {
		t.Error("a failed run changed the state file")
	}

	// A fork: another history signed with the same key.
	fork := filepath.Join(dir, "fork")
	mustBin(t, 0, dir, "", "init", "fork", "--key", "k")
	for i := 0; i < 20; i += 5 {
		mustBin(t, 0, dir, "", "append", "fork", "--key", "k", `{"kind":"x"}`, `{"kind":"x"}`, `{"kind":"x"}`, `{"kind":"x"}`, `{"kind":"x"}`)
	}
	out, _ = mustBin(t, 1, dir, "", "verify", fork, "--key", "k.pub", "--state", st, "--json")
	r = decodeReport(t, out)
	s = r["state"].(map[string]any)
	if s["result"] != "fork" || s["consistency_proof_ok"] != false || s["current"] == nil || s["saved"] == nil ||
		len(s["consistency_proof"].([]any)) == 0 || s["updated"] != false {
		t.Errorf("fork: state %v", s)
	}
	if readFile(t, st) != saved14 {
		t.Error("a failed run changed the state file")
	}

	// A FIFO where the tree hashes belong: the incremental check is not
	// tried (nothing blocks), the log is verified in full.
	ff := filepath.Join(dir, "fifo")
	mustCopy(t, filepath.Join(dir, "log"), ff)
	os.Remove(filepath.Join(ff, "hashes"))
	if mkfifo(t, filepath.Join(ff, "hashes")) {
		out, _ = mustBin(t, 0, dir, "", "verify", ff, "--key", "k.pub", "--state", st, "--json")
		if s := decodeReport(t, out)["state"].(map[string]any); s["mode"] != "full" || s["result"] != "unchanged" || !strings.Contains(s["reason"].(string), "not a regular file") {
			t.Errorf("a FIFO for the hashes: state %v", s)
		}
	}

	// A state file of another log, or not a state file: exit 3.
	mustBin(t, 0, dir, "", "keygen", "-o", "k2", "--name", "other/audit")
	mustBin(t, 0, dir, "", "init", "other", "--key", "k2")
	mustBin(t, 0, dir, "", "append", "other", "--key", "k2", `{"kind":"x"}`)
	_, stderr := mustBin(t, 3, dir, "", "verify", "other", "--key", "k2.pub", "--state", st)
	if !strings.Contains(stderr, "not of this log") {
		t.Errorf("state of another log: %s", stderr)
	}
	if err := os.WriteFile(filepath.Join(dir, "junk.state"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustBin(t, 3, dir, "", "verify", "log", "--key", "k.pub", "--state", "junk.state")
	// A state whose checkpoint was changed (a root of the attacker's
	// choosing) or re-signed by another key: refused, not trusted.
	var cur stateFile
	if err := json.Unmarshal([]byte(saved14), &cur); err != nil {
		t.Fatal(err)
	}
	forged := cur
	forged.Root[0] ^= 1
	forged.Checkpoint = strings.Replace(cur.Checkpoint, cur.Root.String(), forged.Root.String(), 1)
	b, _ := json.Marshal(forged)
	if err := os.WriteFile(filepath.Join(dir, "forged.state"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr = mustBin(t, 3, dir, "", "verify", "log", "--key", "k.pub", "--state", "forged.state")
	if !strings.Contains(stderr, "not a checkpoint signed by the key") {
		t.Errorf("forged state: %s", stderr)
	}
	// A tampered log on a first run: no state is saved.
	_, _ = mustBin(t, 1, dir, "", "verify", "rolled", "--key", "k.pub", "--checkpoint", filepath.Join(dir, "saved14.ckpt"), "--state", "new.state")
	if _, err := os.Stat(filepath.Join(dir, "new.state")); err == nil {
		t.Error("a state was saved for a log that does not verify")
	}
	mustBin(t, 2, dir, "", "verify", "log", "--key", "k.pub", "--full")
}

func mustCopy(t *testing.T, src, dst string) {
	t.Helper()
	if err := copyTree(src, dst); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dst, "lock"))
}

// TestSignedReport signs a report and checks it with verify-report; one
// changed byte, or another key, makes it fail.
func TestSignedReport(t *testing.T) {
	dir := t.TempDir()
	binLog(t, dir, 4)
	mustBin(t, 0, dir, "", "keygen", "-o", "auditor.key", "--name", "auditor.example/reports")
	signed, _ := mustBin(t, 0, dir, "", "verify", "log", "--key", "k.pub", "--sign-report", "auditor.key")
	if !strings.Contains(signed, "\n\n— auditor.example/reports ") || !strings.HasPrefix(signed, "{\n") {
		t.Fatalf("not a signed note:\n%s", signed)
	}
	path := filepath.Join(dir, "r.report")
	if err := os.WriteFile(path, []byte(signed), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _ := mustBin(t, 0, dir, "", "verify-report", "r.report", "--key", "auditor.key.pub")
	for _, want := range []string{"signature:      ok, signed by auditor.example/reports", "status:         VALID", "k.pub sha256:"} {
		if !strings.Contains(out, want) {
			t.Errorf("verify-report does not say %q:\n%s", want, out)
		}
	}
	out, _ = mustBin(t, 0, dir, signed, "verify-report", "-", "--key", "auditor.key.pub", "--json")
	if m := decodeReport(t, out); m["signature_ok"] != true || m["valid"] != true {
		t.Errorf("verify-report --json: %v", m)
	}
	// Changed: the verdict flipped in the signed text.
	forged := strings.Replace(signed, `"valid": true`, `"valid": false`, 1)
	if err := os.WriteFile(path, []byte(forged), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _ = mustBin(t, 1, dir, "", "verify-report", "r.report", "--key", "auditor.key.pub")
	if !strings.Contains(out, "NOT VERIFIED") {
		t.Errorf("a changed report: %s", out)
	}
	// Another key.
	if err := os.WriteFile(path, []byte(signed), 0o644); err != nil {
		t.Fatal(err)
	}
	mustBin(t, 1, dir, "", "verify-report", "r.report", "--key", "k.pub")
	// A signed report of a tampered log is authentic, and says so: exit 1.
	seg := filepath.Join(dir, "log", "segments", "00000000000000000000.jsonl")
	if err := os.WriteFile(seg, bytes.Replace([]byte(readFile(t, seg)), []byte(`"i":1`), []byte(`"i":7`), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	bad, _ := mustBin(t, 1, dir, "", "verify", "log", "--key", "k.pub", "--sign-report", "auditor.key")
	out, _ = mustBin(t, 1, dir, bad, "verify-report", "-", "--key", "auditor.key.pub")
	if !strings.Contains(out, "signature:      ok") || !strings.Contains(out, "status:         TAMPERED") {
		t.Errorf("signed report of a tampered log:\n%s", out)
	}
	// Not a signed report; usage errors.
	mustBin(t, 3, dir, "hello\n", "verify-report", "-", "--key", "auditor.key.pub")
	mustBin(t, 2, dir, "", "verify-report", "r.report")
	mustBin(t, 2, dir, "", "verify", "log", "--sign-report", "auditor.key", "--json")
	_, stderr := mustBin(t, 3, dir, "", "verify", "log", "--sign-report", "auditor.key.pub")
	if !strings.Contains(stderr, "verifier (public) key") {
		t.Errorf("--sign-report with a public key: %s", stderr)
	}
}

// TestErase erases by seq and by actor, refuses what cannot be erased,
// and the verify report names each erased entry's record.
func TestErase(t *testing.T) {
	dir := t.TempDir()
	binLog(t, dir, 9) // actors a0, a1, a2 in turn
	out, _ := mustBin(t, 0, dir, "", "erase", "log", "--key", "k", "--seq", "4", "--reason", "GDPR art. 17", "--requested-by", "dpo@ex.com", "--json")
	var got []struct {
		Seq    uint64  `json:"seq"`
		Record *uint64 `json:"record"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got) != 1 || got[0].Seq != 4 || got[0].Record == nil || *got[0].Record != 9 {
		t.Fatalf("erase --seq 4: %v %s", err, out)
	}
	// The record names who asked and why.
	rec, _ := mustBin(t, 0, dir, "", "show", "log", "9", "--json")
	for _, want := range []string{`"actor": "dpo@ex.com"`, `"kind": "sealog.erase"`, `"reason": "GDPR art. 17"`} {
		if !strings.Contains(rec, want) {
			t.Errorf("the erasure record lacks %s:\n%s", want, rec)
		}
	}
	// A dry run lists and erases nothing; then every entry of actor a1
	// (1 and 7; 4 is erased already).
	out, _ = mustBin(t, 0, dir, "", "erase", "log", "--actor", "a1", "--reason", "r", "--requested-by", "a1", "--dry-run")
	if out != "" && !strings.Contains(out, "would erase entry 1") || !strings.Contains(out, "would erase entry 7") || strings.Contains(out, "entry 4") {
		t.Errorf("dry run:\n%s", out)
	}
	out, _ = mustBin(t, 0, dir, "", "erase", "log", "--key", "k", "--actor", "a1", "--reason", "subject request", "--requested-by", "a1")
	if !strings.Contains(out, "erased entry 1 ") || !strings.Contains(out, "erased entry 7 ") {
		t.Errorf("erase --actor:\n%s", out)
	}
	// Refused, and nothing erased: an erasure record, an erased entry, a
	// seq beyond the log, a missing reason.
	for _, args := range [][]string{
		{"--seq", "3,9"}, {"--seq", "4"}, {"--seq", "3,100"},
	} {
		a := append([]string{"erase", "log", "--key", "k", "--reason", "r", "--requested-by", "x"}, args...)
		_, stderr := mustBin(t, 2, dir, "", a...)
		if !strings.Contains(stderr, "nothing was erased") {
			t.Errorf("%v: %s", args, stderr)
		}
	}
	_, stderr := mustBin(t, 2, dir, "", "erase", "log", "--key", "k", "--seq", "9", "--reason", "r", "--requested-by", "x")
	if !strings.Contains(stderr, "erasure records cannot be erased") {
		t.Errorf("erasing a record: %s", stderr)
	}
	mustBin(t, 2, dir, "", "erase", "log", "--key", "k", "--seq", "3", "--requested-by", "x")
	mustBin(t, 2, dir, "", "erase", "log", "--key", "k", "--seq", "3", "--reason", "r")
	mustBin(t, 2, dir, "", "erase", "log", "--key", "k", "--seq", "3", "--actor", "a0", "--reason", "r", "--requested-by", "x")
	if e, _ := mustBin(t, 0, dir, "", "show", "log", "3", "--json"); strings.Contains(e, `"erased": true`) {
		t.Error("entry 3 was erased by a refused command")
	}
	// The report lists each erased entry with its record.
	out, _ = mustBin(t, 0, dir, "", "verify", "log", "--key", "k.pub", "--json")
	r := decodeReport(t, out)
	if r["erased_count"] != 3.0 {
		t.Errorf("erased_count %v", r["erased_count"])
	}
	want := map[float64]float64{4: 9, 1: 10, 7: 11}
	for _, x := range r["erased_entries"].([]any) {
		m := x.(map[string]any)
		if want[m["seq"].(float64)] != m["record"].(float64) {
			t.Errorf("erased entry %v: record %v", m["seq"], m["record"])
		}
		delete(want, m["seq"].(float64))
	}
	if len(want) != 0 {
		t.Errorf("erased entries not listed: %v", want)
	}
	text, _ := mustBin(t, 0, dir, "", "verify", "log", "--key", "k.pub")
	if !strings.Contains(text, "seq 4, erased by the record at seq 9") {
		t.Errorf("text report:\n%s", text)
	}
}

// TestAppendLock: a second writer fails at once, naming the lock; with
// --wait it waits for the first to finish.
func TestAppendLock(t *testing.T) {
	dir := t.TempDir()
	binLog(t, dir, 3)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	first := exec.CommandContext(ctx, sealogBinary(t), "append", "log", "--key", "k")
	first.Dir = dir
	in, err := first.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	receipts, err := first.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer first.Process.Kill()
	// Once the first writer answered a receipt it holds the lock.
	fmt.Fprintln(in, `{"kind":"first"}`)
	buf := make([]byte, 1)
	if _, err := receipts.Read(buf); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, stderr := mustBin(t, 3, dir, "", "append", "log", "--key", "k", `{"kind":"second"}`)
	lock := filepath.Join("log", "lock")
	if !strings.Contains(stderr, "holds the lock "+lock) || !strings.Contains(stderr, fmt.Sprintf("pid %d", first.Process.Pid)) || !strings.Contains(stderr, "--wait") {
		t.Errorf("second writer: %s", stderr)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("the second writer took %s to fail", d) // generous: it must not wait
	}
	mustBin(t, 3, dir, "", "append", "log", "--key", "k", "--wait", "200ms", `{"kind":"second"}`)
	// With --wait, it appends once the first writer is done.
	go func() {
		time.Sleep(300 * time.Millisecond)
		in.Close()
	}()
	out, _ := mustBin(t, 0, dir, "", "append", "log", "--key", "k", "--wait", "50s", `{"kind":"second"}`)
	if !strings.Contains(out, `"seq":4`) {
		t.Errorf("the waiting append: %s", out)
	}
	if err := first.Wait(); err != nil {
		t.Errorf("first writer: %v", err)
	}
	mustBin(t, 2, dir, "", "append", "log", "--key", "k", "--wait", "soon", `{"kind":"x"}`)
}

// TestInfo checks 'sealog info' against a log whose figures are known.
func TestInfo(t *testing.T) {
	dir := t.TempDir()
	binLog(t, dir, 6)
	mustBin(t, 0, dir, "", "erase", "log", "--key", "k", "--seq", "0", "--reason", "r", "--requested-by", "x")
	out, _ := mustBin(t, 0, dir, "", "info", "log", "--json")
	var in logInfo
	if err := json.Unmarshal([]byte(out), &in); err != nil {
		t.Fatal(err)
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "log", "segments", "*.jsonl"))
	seg := ""
	for _, p := range segs {
		seg += strings.TrimRight(readFile(t, p), "\x00")
	}
	if in.Origin != "ex.com/audit" || in.Size != 7 || in.Erased != 1 || in.Segments != len(segs) || in.CompressedSegments != 0 ||
		*in.FirstSeq != 0 || *in.LastSeq != 6 || in.Checkpoint == nil || in.Checkpoint.Size != 7 ||
		in.BytesUncompressed != int64(len(seg)) || in.FirstTime == "" || in.LastTime < in.FirstTime {
		t.Errorf("info: %+v (segment %d bytes)", in, len(seg))
	}
	text, _ := mustBin(t, 0, dir, "", "info", "log")
	for _, want := range []string{"size:        7 entries", "erased:      1 entry", "seq range:   0 to 6", "checkpoint:  size 7"} {
		if !strings.Contains(text, want) {
			t.Errorf("info text lacks %q:\n%s", want, text)
		}
	}
	mustBin(t, 3, dir, "", "info", "nosuch")
	mustBin(t, 2, dir, "", "info")
}

// TestKeygenY prints the verifier key of a private key file.
func TestKeygenY(t *testing.T) {
	dir := t.TempDir()
	mustBin(t, 0, dir, "", "keygen", "-o", "k", "--name", "ex.com/audit")
	out, _ := mustBin(t, 0, dir, "", "keygen", "-y", "k")
	if out != readFile(t, filepath.Join(dir, "k.pub")) {
		t.Errorf("keygen -y: %q, want the .pub file's %q", out, readFile(t, filepath.Join(dir, "k.pub")))
	}
	out, _ = mustBin(t, 0, dir, "", "keygen", "-y", "k", "--json")
	if m := decodeReport(t, out); m["origin"] != "ex.com/audit" || m["key"] != strings.TrimSpace(readFile(t, filepath.Join(dir, "k.pub"))) {
		t.Errorf("keygen -y --json: %v", m)
	}
	_, stderr := mustBin(t, 3, dir, "", "keygen", "-y", "k.pub")
	if strings.Contains(stderr, "+") {
		t.Errorf("keygen -y FILE.pub echoes a key: %s", stderr)
	}
	mustBin(t, 3, dir, "", "keygen", "-y", "nosuch")
	mustBin(t, 2, dir, "", "keygen", "-y", "k", "--name", "x")
}

// TestVerifyTrustOutside covers -q's warning, --strict, hints on stderr
// that keep the user's flags, and a private key never echoed.
func TestVerifyTrustOutside(t *testing.T) {
	dir := t.TempDir()
	binLog(t, dir, 3)
	ck, _ := mustBin(t, 0, dir, "", "checkpoint", "log")
	if err := os.WriteFile(filepath.Join(dir, "saved.ckpt"), []byte(ck), 0o644); err != nil {
		t.Fatal(err)
	}
	// -q without --key: exit 0, nothing on stdout, the warning on stderr.
	out, stderr := mustBin(t, 0, dir, "", "verify", "log", "-q")
	if out != "" || !strings.Contains(stderr, "warning: verified with the key stored in the log itself") {
		t.Errorf("-q without --key: stdout %q, stderr %q", out, stderr)
	}
	// Hints go to stderr and keep the flags given.
	out, stderr = mustBin(t, 0, dir, "", "verify", "log", "--checkpoint", "saved.ckpt")
	if strings.Contains(out, "hint") || strings.Contains(out, "To prove") {
		t.Errorf("hints on stdout:\n%s", out)
	}
	if !strings.Contains(stderr, "hint: to prove who signed the log: sealog verify log --checkpoint saved.ckpt --key FILE.pub") {
		t.Errorf("key hint: %s", stderr)
	}
	_, stderr = mustBin(t, 0, dir, "", "verify", "log", "--key", "k.pub")
	if !strings.Contains(stderr, "hint: to rule out truncation: sealog verify log --key k.pub --checkpoint SAVED.ckpt") {
		t.Errorf("truncation hint: %s", stderr)
	}
	_, stderr = mustBin(t, 0, dir, "", "verify", "log", "--key", "k.pub", "--checkpoint", "saved.ckpt")
	if strings.Contains(stderr, "hint") {
		t.Errorf("hints when nothing is missing: %s", stderr)
	}
	// --strict.
	_, stderr = mustBin(t, 1, dir, "", "verify", "log", "--strict")
	if !strings.Contains(stderr, "--strict: no --key") {
		t.Errorf("--strict without --key: %s", stderr)
	}
	_, stderr = mustBin(t, 1, dir, "", "verify", "log", "--strict", "--key", "k.pub", "--checkpoint", "log/checkpoint")
	if !strings.Contains(stderr, "the checkpoint input log/checkpoint is inside the log's directory") {
		t.Errorf("--strict with the log's own checkpoint: %s", stderr)
	}
	mustBin(t, 1, dir, "", "verify", "log", "--strict", "--key", "k.pub", "--state", "log/st")
	out, _ = mustBin(t, 0, dir, "", "verify", "log", "--strict", "--key", "k.pub", "--checkpoint", "saved.ckpt", "--json")
	if m := decodeReport(t, out); m["strict"] != true || m["key_source"] != "given" {
		t.Errorf("--strict report: strict %v, key_source %v", m["strict"], m["key_source"])
	}
	// A private key where a verifier key belongs: never echoed.
	skey := strings.TrimSpace(readFile(t, filepath.Join(dir, "k")))
	for _, cmd := range [][]string{
		{"verify", "log", "--key", skey}, {"verify-bundle", "x.bundle", "--key", skey},
		{"verify-proof", "x.proof", "--key", skey}, {"verify-report", "x.report", "--key", skey},
	} {
		code, out, stderr := bin(t, dir, "", cmd...)
		if code != 2 || strings.Contains(out+stderr, skey[12:]) || !strings.Contains(stderr, "this is a private key; pass the .pub file") {
			t.Errorf("%s with a private key: exit %d, output %q %q", cmd[0], code, out, stderr)
		}
	}
	code, out, stderr := bin(t, dir, "", "verify", "log", "--key", "k")
	if code != 3 || strings.Contains(out+stderr, skey[12:]) || !strings.Contains(stderr, "this is a private key; pass the .pub file") {
		t.Errorf("verify --key PRIVATE-FILE: exit %d, %q %q", code, out, stderr)
	}
}

// TestVerifyBadCheckpoint: every kind of bad --checkpoint is exit 3, as
// docs/CLI.md says of input that is not what it should be.
func TestVerifyBadCheckpoint(t *testing.T) {
	dir := t.TempDir()
	binLog(t, dir, 3)
	ck, _ := mustBin(t, 0, dir, "", "checkpoint", "log")
	mustBin(t, 0, dir, "", "keygen", "-o", "o", "--name", "ex.com/audit")
	mustBin(t, 0, dir, "", "init", "olog", "--key", "o")
	mustBin(t, 0, dir, "", "append", "olog", "--key", "o", `{"kind":"x"}`)
	other, _ := mustBin(t, 0, dir, "", "checkpoint", "olog")
	mustBin(t, 0, dir, "", "keygen", "-o", "n", "--name", "elsewhere/audit")
	mustBin(t, 0, dir, "", "init", "nlog", "--key", "n")
	mustBin(t, 0, dir, "", "append", "nlog", "--key", "n", `{"kind":"x"}`)
	otherOrigin, _ := mustBin(t, 0, dir, "", "checkpoint", "nlog")
	sig := strings.LastIndex(ck, " ") + 5
	flipped := ck[:sig] + string(rune(ck[sig]^1)) + ck[sig+1:]
	for name, content := range map[string]string{
		"garbage":      "garbage\n",
		"empty":        "",
		"other-key":    other,
		"other-origin": otherOrigin,
		"flipped-sig":  flipped,
		"cut":          ck[:len(ck)/2],
		"bad-receipt":  `{"seq":1}` + "\n",
		"receipts-bad": `{"seq":0,"time":"x","leaf_hash":"x","checkpoint":"nope"}` + "\n",
	} {
		p := filepath.Join(dir, name+".ckpt")
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, key := range [][]string{{"--key", "k.pub"}, nil} {
			args := append([]string{"verify", "log", "--checkpoint", p}, key...)
			code, _, stderr := bin(t, dir, "", args...)
			if code != exitIO || !strings.Contains(stderr, p) {
				t.Errorf("--checkpoint %s (%v): exit %d, stderr %q", name, key, code, stderr)
			}
		}
	}
	mustBin(t, 3, dir, "", "verify", "log", "--checkpoint", "nosuch.ckpt")
	mustBin(t, 3, dir, "", "verify", "log", "--checkpoint", "log")
}

// TestExitCodes checks the documented exit codes on every command: 3 for
// a missing input, 2 for a usage error (a seq or size not in the log, an
// unknown flag).
func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	binLog(t, dir, 3)
	for _, tt := range []struct {
		code int
		args string
	}{
		{3, "verify --format spanforge /nonexist --secret s"},
		{3, "verify --format immutable-logging /nonexist"},
		{3, "verify nosuch"},
		{3, "show nosuch 0"},
		{3, "query nosuch"},
		{3, "tail nosuch"},
		{3, "info nosuch"},
		{3, "checkpoint nosuch"},
		{3, "prove nosuch --seq 0"},
		{3, "verify-proof nosuch --key k.pub"},
		{3, "export nosuch --seq 0 -o x"},
		{3, "verify-bundle nosuch --key k.pub"},
		{3, "verify-report nosuch --key k.pub"},
		{3, "erase nosuch --key k --seq 0 --reason r --requested-by x"},
		{3, "append nosuch --key k"},
		{3, "init log --key k"},
		{3, "keygen -y nosuch"},
		{3, "import --format spanforge /nonexist dest --key k --secret s"},
		{3, "verify log --key k.pub --state log"},
		{2, "show log 999"},
		{2, "erase log --key k --seq 999 --reason r --requested-by x"},
		{2, "verify log --nosuch"},
		{2, "verify --format spanforge log --state st"},
		{2, "checkpoint log --size 999"},
		{2, "prove log --seq 999"},
		{2, "info log extra"},
		{0, "info log"},
	} {
		code, _, stderr := bin(t, dir, "", strings.Fields(tt.args)...)
		if code != tt.code {
			t.Errorf("sealog %s: exit %d, want %d (%s)", tt.args, code, tt.code, stderr)
		}
	}
}

// TestStateDatabase: --state and info on a log in SQLite, as on a
// directory.
func TestStateDatabase(t *testing.T) {
	dir := t.TempDir()
	mustBin(t, 0, dir, "", "keygen", "-o", "k", "--name", "ex.com/audit")
	url := "sqlite:" + filepath.Join(dir, "audit.db")
	mustBin(t, 0, dir, "", "init", url, "--key", "k")
	mustBin(t, 0, dir, "", "append", url, "--key", "k", `{"kind":"a"}`, `{"kind":"b"}`)
	out, _ := mustBin(t, 0, dir, "", "verify", url, "--key", "k.pub", "--state", "db.state", "--json")
	if s := decodeReport(t, out)["state"].(map[string]any); s["result"] != "saved" {
		t.Fatalf("first run: %v", s)
	}
	mustBin(t, 0, dir, "", "append", url, "--key", "k", `{"kind":"c","actor":"x"}`)
	mustBin(t, 0, dir, "", "erase", url, "--key", "k", "--actor", "x", "--reason", "r", "--requested-by", "x")
	out, _ = mustBin(t, 0, dir, "", "verify", url, "--key", "k.pub", "--state", "db.state", "--json")
	r := decodeReport(t, out)
	if s := r["state"].(map[string]any); s["result"] != "consistent" || s["mode"] != "incremental" || s["consistency_proof_ok"] != true || r["erased_count"] != 1.0 {
		t.Errorf("second run: %v, erased %v", s, r["erased_count"])
	}
	out, _ = mustBin(t, 0, dir, "", "info", url, "--json")
	var in logInfo
	if err := json.Unmarshal([]byte(out), &in); err != nil || in.Size != 4 || in.Erased != 1 || in.Segments != 0 || in.Origin != "ex.com/audit" {
		t.Errorf("info: %v %+v", err, in)
	}
}
