package main

import (
	"flag"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sealog/sealog/compat"
)

func TestParseSeqList(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []uint64
		err  string
	}{
		{"5", []uint64{5}, ""},
		{"5,17,40-45", []uint64{5, 17, 40, 41, 42, 43, 44, 45}, ""},
		{"3,1,2,2", []uint64{1, 2, 3}, ""},
		{" 7 , 8 ", []uint64{7, 8}, ""},
		{"0..2", []uint64{0, 1, 2}, ""},
		{"4–5", []uint64{4, 5}, ""},
		{"9-9", []uint64{9}, ""},
		{"", nil, "empty list"},
		{"1,,2", nil, "empty item"},
		{"x", nil, "not a seq"},
		{"-1", nil, "not a seq"},
		{"5-3", nil, "runs backwards"},
		{"1-", nil, "not a seq range"},
		{"0-200000", nil, "more than 100"},
		{"18446744073709551615", []uint64{18446744073709551615}, ""},
		{"18446744073709551616", nil, "not a seq"},
	} {
		got, err := parseSeqList(tt.in, 100)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("parseSeqList(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseSeqList(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestFormatSeqList(t *testing.T) {
	for in, want := range map[string]string{"5": "5", "5,17,40-45": "5, 17, 40–45", "1,2,4,5,6,9": "1–2, 4–6, 9"} {
		s, _ := parseSeqList(in, 1000)
		if got := formatSeqList(s); got != want {
			t.Errorf("formatSeqList(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseTime(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		in   string
		want time.Time
		err  bool
	}{
		{"2026-11-21T08:00:00Z", time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC), false},
		{"2026-11-21T08:00:00.5+01:00", time.Date(2026, 11, 21, 7, 0, 0, 5e8, time.UTC), false},
		{"2026-11-21", time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC), false},
		{"2026-11-21T08:30", time.Date(2026, 11, 21, 8, 30, 0, 0, time.UTC), false},
		{"2026-11-21 08:30:05", time.Date(2026, 11, 21, 8, 30, 5, 0, time.UTC), false},
		{"24h", now.Add(-24 * time.Hour), false},
		{"90m", now.Add(-90 * time.Minute), false},
		{"7d", now.Add(-7 * 24 * time.Hour), false},
		{"yesterday", time.Time{}, true},
		{"-5h", time.Time{}, true},
		{"2026-13-01", time.Time{}, true},
		{"", time.Time{}, true},
	} {
		got, err := parseTime(tt.in, now)
		if (err != nil) != tt.err || (!tt.err && !got.Equal(tt.want)) {
			t.Errorf("parseTime(%q) = %v, %v; want %v (error %v)", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"1048576": 1 << 20, "1MiB": 1 << 20, "512KiB": 512 << 10, "2M": 2 << 20, "64": 64, "1GiB": 1 << 30} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "1TB", "x"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) succeeded", in)
		}
	}
}

// TestParseArgs checks that flags may come before, between and after the
// positional arguments, with one or two dashes.
func TestParseArgs(t *testing.T) {
	c := &command{name: "t", usage: "Usage: t\n"}
	for _, tt := range []struct {
		args    []string
		pos     []string
		key     string
		json    bool
		errPart string
	}{
		{[]string{"DIR", "--json"}, []string{"DIR"}, "", true, ""},
		{[]string{"--json", "DIR"}, []string{"DIR"}, "", true, ""},
		{[]string{"-json", "DIR", "-key", "K"}, []string{"DIR"}, "K", true, ""},
		{[]string{"DIR", "--key=K", "X"}, []string{"DIR", "X"}, "K", false, ""},
		{[]string{"DIR", "--", "--json"}, []string{"DIR", "--json"}, "", false, ""},
		{[]string{"-", "DIR"}, []string{"-", "DIR"}, "", false, ""},
		{[]string{"DIR", "--nope"}, nil, "", false, "unknown flag --nope"},
		{[]string{"DIR", "--key"}, nil, "", false, "needs a value"},
		{[]string{"DIR", "--json=maybe"}, nil, "", false, "invalid boolean"},
	} {
		fl := newFlags(c)
		key := fl.String("key", "", "")
		asJSON := fl.Bool("json", false, "")
		e := &env{stdout: &strings.Builder{}}
		pos, err := parseArgs(e, c, fl, tt.args)
		if tt.errPart != "" {
			if err == nil || !strings.Contains(err.Error(), tt.errPart) {
				t.Errorf("parseArgs(%q): err %v, want %q", tt.args, err, tt.errPart)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(pos, tt.pos) || *key != tt.key || *asJSON != tt.json {
			t.Errorf("parseArgs(%q) = %q, key %q, json %v, %v", tt.args, pos, *key, *asJSON, err)
		}
	}
	fl := flag.NewFlagSet("t", flag.ContinueOnError)
	out := &strings.Builder{}
	if _, err := parseArgs(&env{stdout: out}, c, fl, []string{"DIR", "--help"}); err != errHelp || out.String() != c.usage {
		t.Errorf("--help: %v, printed %q", err, out.String())
	}
}

func TestLegacyInput(t *testing.T) {
	dir := t.TempDir()
	cur := dir + "/app.log"
	os.WriteFile(cur, nil, 0o644)
	for _, tt := range []struct {
		in   []string
		want string
		err  bool
	}{
		{[]string{cur}, cur, false},
		{[]string{cur + ".2", cur + ".1", cur}, cur, false},
		{[]string{cur + ".20260302T110000-000001", cur + ".20260302T110000-000001-1", cur}, cur, false},
		{[]string{dir + "/gone.log.2", dir + "/gone.log.1"}, dir + "/gone.log.1", false},
		{[]string{cur + ".1", dir + "/other.log"}, "", true},
	} {
		got, err := legacyInput(compat.ImmutableLogging, tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("legacyInput(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := legacyInput(compat.Spine, []string{"a", "b"}); err == nil {
		t.Error("two Spine paths accepted")
	}
}
