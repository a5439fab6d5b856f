package compat

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// immutable-logging rotates a log in one of two ways: numbered backups
// (app.log.1, app.log.2, …; a higher number is older) or, with
// keep_all_backups, timestamped ones (app.log.YYYYmmddTHHMMSS-ffffff, with
// -1, -2, … added on a name clash). Each log has its own .integrity sidecar
// and its own chain.

const sidecarSuffix = ".integrity"

var rotatedStamp = regexp.MustCompile(`^([0-9]{8}T[0-9]{6}-[0-9]{6})(?:-([0-9]+))?$`)

type rotated struct {
	path  string
	num   int    // numbered backups
	stamp string // timestamped backups
	clash int
}

// immutableSet returns the log files of the set that path belongs to,
// oldest first, ending with path itself: timestamped backups by time (and
// clash number), then numbered backups from the highest number down. If a
// set mixes both schemes, timestamped backups are taken as older (they are
// what keep_all_backups archives).
func immutableSet(path string) ([]string, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("immutable-logging: list rotated files beside %s: %w", path, err)
	}
	var stamped, numbered []rotated
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasPrefix(name, base+".") || strings.HasSuffix(name, sidecarSuffix) {
			continue
		}
		suffix := name[len(base)+1:]
		full := filepath.Join(filepath.Dir(path), name)
		if n, err := strconv.Atoi(suffix); err == nil && n > 0 && allDigits(suffix) {
			numbered = append(numbered, rotated{path: full, num: n})
			continue
		}
		if m := rotatedStamp.FindStringSubmatch(suffix); m != nil {
			c := 0
			if m[2] != "" {
				if c, err = strconv.Atoi(m[2]); err != nil {
					continue
				}
			}
			stamped = append(stamped, rotated{path: full, stamp: m[1], clash: c})
		}
	}
	slices.SortFunc(stamped, func(a, b rotated) int {
		if c := strings.Compare(a.stamp, b.stamp); c != 0 {
			return c
		}
		return a.clash - b.clash
	})
	slices.SortFunc(numbered, func(a, b rotated) int { return b.num - a.num })
	out := make([]string, 0, len(stamped)+len(numbered)+1)
	for _, r := range stamped {
		out = append(out, r.path)
	}
	for _, r := range numbered {
		out = append(out, r.path)
	}
	return append(out, path), nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}
