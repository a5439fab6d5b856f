package compat

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
)

// The vectors in testdata/compat/vectors were printed by CPython 3.11
// (gen_vectors.py there): repr of floats, and json.dumps canonical forms.

func TestPyFloatVectors(t *testing.T) {
	f, err := os.Open(fixtureRoot + "/vectors/pyfloat.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		bitsHex, want, _ := strings.Cut(sc.Text(), "\t")
		bits, err := strconv.ParseUint(bitsHex, 16, 64)
		if err != nil {
			t.Fatal(err)
		}
		v := math.Float64frombits(bits)
		if got := string(appendPyFloat(nil, v)); got != want {
			t.Errorf("repr(%v) = %s, want %s", v, got, want)
		}
		n++
	}
	if n < 3000 {
		t.Fatalf("only %d vectors", n)
	}
}

func TestPyFloatExamples(t *testing.T) {
	for in, want := range map[float64]string{
		100: "100.0", 0.0001: "0.0001", 1e6: "1000000.0", 1e15: "1000000000000000.0",
		1e-5: "1e-05", 1e-7: "1e-07", 1e16: "1e+16", 1.2345678901234568e+17: "1.2345678901234568e+17",
		1.5e300: "1.5e+300", math.Copysign(0, -1): "-0.0", math.Inf(1): "Infinity", math.Inf(-1): "-Infinity",
	} {
		if got := string(appendPyFloat(nil, in)); got != want {
			t.Errorf("repr(%v) = %s, want %s", in, got, want)
		}
	}
	if got := string(appendPyFloat(nil, math.NaN())); got != "NaN" {
		t.Errorf("repr(NaN) = %s", got)
	}
}

type canonVector struct {
	In        string  `json:"in"`
	Spanforge *string `json:"spanforge"`
	Spine     *string `json:"spine"`
}

func TestCanonVectors(t *testing.T) {
	data, err := os.ReadFile(fixtureRoot + "/vectors/canon.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var p jparser
	var c canonicalizer
	for i, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var v canonVector
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatal(err)
		}
		perr := p.parse([]byte(v.In))
		for _, m := range []struct {
			name string
			mode canonMode
			want *string
		}{{"spanforge", spanforgeCanon, v.Spanforge}, {"spine", spineCanon, v.Spine}} {
			if perr != nil {
				if m.want != nil {
					t.Errorf("%d %s: parse %q: %v; Python read it", i, m.name, v.In, perr)
				}
				continue
			}
			got, err := c.appendCanon(nil, &p, 0, m.mode)
			switch {
			case m.want == nil && err == nil:
				t.Errorf("%d %s: %q gave %q; Python fails", i, m.name, v.In, got)
			case m.want != nil && *m.want == "FLOAT":
				if err != errFloatInPayload {
					t.Errorf("%d %s: %q: err %v, want the float error", i, m.name, v.In, err)
				}
			case m.want != nil && (err != nil || string(got) != *m.want):
				t.Errorf("%d %s: %q\n got %q (%v)\nwant %q", i, m.name, v.In, got, err, *m.want)
			}
		}
	}
}

func TestParserRejects(t *testing.T) {
	var p jparser
	for _, in := range []string{
		``, `{`, `{"a":}`, `[1,]`, `{"a":1,}`, `01`, `1.`, `.5`, `+1`, `-`, `"\x"`, `"a` + "\x01" + `"`,
		`"\u12"`, `nul`, `{"a" 1}`, `[1 2]`, `1 2`, `-Inf`, `nan`, `"unterminated`, `{"a":1}x`,
		strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1),
		`{"n":` + strings.Repeat("9", maxIntDigits+1) + `}`,
	} {
		if err := p.parse([]byte(in)); err == nil {
			t.Errorf("parse(%q) succeeded", in)
		}
	}
	for _, in := range []string{`NaN`, `-Infinity`, ` {"a" : [ 1 , 2 ] } `, `"\u2028"`, "\"\u2028\"", `1E+5`, `-0`} {
		if err := p.parse([]byte(in)); err != nil {
			t.Errorf("parse(%q): %v", in, err)
		}
	}
}

func TestISOTime(t *testing.T) {
	for in, want := range map[string]int64{
		"2026-03-02T09:00:02.617477+00:00": 1772442002617477000,
		"2026-03-02T09:00:18+00:00":        1772442018000000000,
		"2026-03-02T09:00:18":              1772442018000000000,
		"2026-03-02T09:00:18Z":             1772442018000000000,
		"2026-03-02T10:00:18+01:00":        1772442018000000000,
		"2026-03-02 09:00:18.5+00:00":      1772442018500000000,
		"2026-03-02T09:00:18.123456789Z":   1772442018123456000,
		"2026-03-02T04:30:18-04:30":        1772442018000000000,
	} {
		got, ok := parseISOTimeNS(in)
		if !ok || got != want {
			t.Errorf("parseISOTimeNS(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "2026-03-02", "2026-02-30T00:00:00", "2026-03-02T25:00:00", "2026-03-02T09:00:18+0", "2026-03-02T09:00:18.", "2026-03-02T09:00:18 junk"} {
		if _, ok := parseISOTimeNS(in); ok {
			t.Errorf("parseISOTimeNS(%q) accepted", in)
		}
	}
}
