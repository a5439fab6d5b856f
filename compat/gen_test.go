package compat

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"
)

// Writers that produce logs the way the three Python tools do, for tests.

// canonOf returns the canonical form of a JSON text, failing the test on error.
func canonOf(t testing.TB, text string, m canonMode) []byte {
	t.Helper()
	var p jparser
	var c canonicalizer
	if err := p.parse([]byte(text)); err != nil {
		t.Fatalf("parse %q: %v", text, err)
	}
	out, err := c.appendCanon(nil, &p, 0, m)
	if err != nil {
		t.Fatalf("canon %q: %v", text, err)
	}
	return out
}

func writeFile(t testing.TB, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func appendFile(t testing.TB, path, data string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(data); err != nil {
		t.Fatal(err)
	}
}

// ---- spanforge ----

const sfSecret = "sf-test-secret-1"

// sfGen writes spanforge events as AuditStream + the JSONL exporter do.
type sfGen struct {
	t      testing.TB
	secret string
	prevID string
	n      int
}

func newSFGen(t testing.TB) *sfGen { return &sfGen{t: t, secret: sfSecret} }

// sfEventSpec is one event before it is serialised.
type sfEventSpec struct {
	ID, Prev, Type, Payload, Checksum, Signature string
	Extra                                        string // more members, JSON, without braces
}

func sfSign(secret, id, checksum, prev string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(id + "|" + checksum + "|" + prev))
	return "hmac-sha256:" + hex.EncodeToString(m.Sum(nil))
}

func (g *sfGen) next(typ, payload string) *sfEventSpec {
	g.n++
	e := &sfEventSpec{ID: fmt.Sprintf("01KJPZV%019d", g.n), Prev: g.prevID, Type: typ, Payload: payload}
	g.seal(e)
	g.prevID = e.ID
	return e
}

// seal recomputes checksum and signature with the generator's secret.
func (g *sfGen) seal(e *sfEventSpec) {
	sum := sha256.Sum256(canonOf(g.t, e.Payload, spanforgeCanon))
	e.Checksum = "sha256:" + hex.EncodeToString(sum[:])
	e.Signature = sfSign(g.secret, e.ID, e.Checksum, e.Prev)
}

// line serialises e as json.dumps(sort_keys=True, separators=(",", ":"),
// ensure_ascii=False) does, with a "\n".
func (e *sfEventSpec) line(t testing.TB) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"event_id":%q,"event_type":%q,"payload":%s,"schema_version":"2.0","source":"agent@1.0.0","timestamp":"2026-03-02T10:00:01.500007Z","actor_id":"u-1"`,
		e.ID, e.Type, e.Payload)
	if e.Prev != "" {
		fmt.Fprintf(&b, `,"prev_id":%q`, e.Prev)
	}
	if e.Checksum != "" {
		fmt.Fprintf(&b, `,"checksum":%q`, e.Checksum)
	}
	if e.Signature != "" {
		fmt.Fprintf(&b, `,"signature":%q`, e.Signature)
	}
	if e.Extra != "" {
		b.WriteString("," + e.Extra)
	}
	b.WriteString("}")
	return string(canonOf(t, b.String(), spanforgeCanon)) + "\n"
}

func sfLines(t testing.TB, evs []*sfEventSpec) string {
	var b strings.Builder
	for _, e := range evs {
		b.WriteString(e.line(t))
	}
	return b.String()
}

// ---- immutable-logging ----

// ilSidecar returns the sidecar for log lines (each without its '\n').
func ilSidecar(lines []string) string {
	var b strings.Builder
	prev := zeroHash
	for i, l := range lines {
		sum := sha256.Sum256([]byte(l + prev))
		h := hex.EncodeToString(sum[:])
		fmt.Fprintf(&b, "%d|sha256=%s|prev=%s\n", i+1, h, prev)
		prev = h
	}
	return b.String()
}

func writePair(t testing.TB, path string, lines []string) {
	t.Helper()
	body := ""
	if len(lines) > 0 {
		body = strings.Join(lines, "\n") + "\n"
	}
	writeFile(t, path, body)
	writeFile(t, path+sidecarSuffix, ilSidecar(lines))
}

// ---- verdicts ----

func mustVerify(t testing.TB, f Format, path string, opts Options) *Report {
	t.Helper()
	r, err := Verify(context.Background(), f, path, opts)
	if err != nil {
		t.Fatalf("Verify(%s): %v", path, err)
	}
	return r
}

// want checks valid/first_invalid/records (records < 0: not checked).
func want(t testing.TB, r *Report, valid bool, first, records int) {
	t.Helper()
	got := -1
	if r.FirstInvalid != nil {
		got = *r.FirstInvalid
	}
	if r.Valid != valid || got != first || (records >= 0 && r.Records != records) {
		t.Errorf("valid=%v first_invalid=%d records=%d; want valid=%v first_invalid=%d records=%d\nreason: %s\nproblems: %+v\nnotes: %q",
			r.Valid, got, r.Records, valid, first, records, r.Reason, r.Problems, r.Notes)
	}
}

func hasWarning(r *Report, code string) bool {
	for _, w := range r.Warnings {
		if w == code {
			return true
		}
	}
	return false
}

func removeFile(t testing.TB, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}
