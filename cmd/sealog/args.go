package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

// errHelp is returned by parseArgs when -h or --help was given: the
// command's usage has been printed and the command ends with exit 0.
var errHelp = errors.New("help shown")

// newFlags returns a FlagSet for c that reports nothing itself: parseArgs
// turns its errors into usage errors.
func newFlags(c *command) *flag.FlagSet {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseArgs parses args for c with fs, allowing flags before, between and
// after positional arguments ("--" ends the flags), and returns the
// positional arguments. -h and --help print c's usage on e.stdout and
// return errHelp.
func parseArgs(e *env, c *command, fs *flag.FlagSet, args []string) ([]string, error) {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		name := strings.TrimLeft(a, "-")
		if name == "h" || name == "help" {
			fmt.Fprint(e.stdout, c.usage)
			return nil, errHelp
		}
		flags = append(flags, a)
		if strings.Contains(name, "=") {
			continue
		}
		f := fs.Lookup(name)
		if f == nil {
			return nil, usageError("%s: unknown flag %s", c.name, a).withHint("run 'sealog %s -h' for usage", c.name)
		}
		if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && bf.IsBoolFlag() {
			continue
		}
		if i+1 >= len(args) {
			return nil, usageError("%s: flag %s needs a value", c.name, a).withHint("run 'sealog %s -h' for usage", c.name)
		}
		flags = append(flags, args[i+1])
		i++
	}
	if err := fs.Parse(flags); err != nil {
		msg := err.Error()
		if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
			msg = "unknown flag " + name
		}
		return nil, usageError("%s: %s", c.name, msg).withHint("run 'sealog %s -h' for usage", c.name)
	}
	return append(pos, fs.Args()...), nil
}

// wantArgs checks the number of positional arguments.
func wantArgs(c *command, pos []string, min, max int, what string) error {
	switch {
	case len(pos) < min:
		return usageError("%s: missing %s", c.name, what).withHint("run 'sealog %s -h' for usage", c.name)
	case max >= 0 && len(pos) > max:
		return usageError("%s: unexpected argument %q", c.name, pos[max]).withHint("run 'sealog %s -h' for usage", c.name)
	}
	return nil
}

// stringsFlag is a repeatable string flag.
type stringsFlag []string

func (s *stringsFlag) String() string     { return strings.Join(*s, ",") }
func (s *stringsFlag) Set(v string) error { *s = append(*s, v); return nil }

// parseSeqList parses a list of seqs such as "5,17,40-45" (ranges are
// inclusive; "40..45" and "40–45" are accepted too) and returns them
// sorted, without duplicates. It refuses lists of more than max seqs.
func parseSeqList(s string, max int) ([]uint64, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("empty list")
	}
	set := map[uint64]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			return nil, fmt.Errorf("empty item in %q", s)
		}
		lo, hi, isRange := part, part, false
		for _, sep := range []string{"..", "–", "-"} {
			if a, b, ok := strings.Cut(part, sep); ok {
				lo, hi, isRange = strings.TrimSpace(a), strings.TrimSpace(b), true
				break
			}
		}
		a, err := strconv.ParseUint(lo, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a seq (a number from 0)", part)
		}
		b, err := strconv.ParseUint(hi, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a seq range (like 40-45)", part)
		}
		if isRange && b < a {
			return nil, fmt.Errorf("range %q runs backwards", part)
		}
		if b-a >= uint64(max) || len(set)+int(b-a+1) > max {
			return nil, fmt.Errorf("more than %d seqs", max)
		}
		for n := a; ; n++ {
			set[n] = true
			if n == b {
				break
			}
		}
	}
	out := make([]uint64, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

// formatSeqList is parseSeqList's inverse: "5, 17, 40–45".
func formatSeqList(seqs []uint64) string {
	var b strings.Builder
	for i := 0; i < len(seqs); {
		j := i
		for j+1 < len(seqs) && seqs[j+1] == seqs[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		if j > i {
			fmt.Fprintf(&b, "%d–%d", seqs[i], seqs[j])
		} else {
			fmt.Fprintf(&b, "%d", seqs[i])
		}
		i = j + 1
	}
	return b.String()
}

// parseTime parses a time for --since and --until: RFC 3339
// ("2026-11-21T08:00:00Z", with or without fraction or offset), a date
// ("2026-11-21", midnight UTC), a date and time without zone
// ("2026-11-21T08:00", UTC), or a duration before now ("24h", "90m",
// "7d" for days).
func parseTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.ParseUint(d, 10, 32); err == nil {
			return now.Add(-time.Duration(n) * 24 * time.Hour).UTC(), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time: use RFC 3339 (2026-11-21T08:00:00Z), a date (2026-11-21) or a duration before now (24h, 7d)", s)
}

// parseSize parses a byte size: "1048576", "512KiB", "1MiB", "1M".
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1}} {
		if v, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = v, u.mult
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(t), 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a size (like 1048576 or 1MiB)", s)
	}
	return n * mult, nil
}
