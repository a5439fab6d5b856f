package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/internal/durable"
	"github.com/sealog/sealog/witness"
)

// witnessConfig is a witness's configuration file (docs/WITNESS.md):
//
//	name <witness name>
//	key <secret key file>        relative to the file's directory
//	state <state directory>      relative likewise
//	listen <address>
//	log <log verifier key>       one line per log followed
//
// Empty lines and lines starting with # are ignored.
type witnessConfig struct {
	path                     string
	name, key, state, listen string
	logs                     []string // verifier keys
}

// readWitnessConfig reads path; a missing file is an empty config when
// mayMiss.
func readWitnessConfig(path string, mayMiss bool) (*witnessConfig, error) {
	c := &witnessConfig{path: path}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && mayMiss {
		return c, nil
	}
	if err != nil {
		return nil, ioError("witness config %s: %v", path, pathErr(err))
	}
	rel := func(p string) string {
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(filepath.Dir(path), p)
	}
	for n, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if len(f) != 2 {
			return nil, ioError("witness config %s: line %d: want '<keyword> <value>'", path, n+1)
		}
		switch f[0] {
		case "name":
			c.name = f[1]
		case "key":
			c.key = rel(f[1])
		case "state":
			c.state = rel(f[1])
		case "listen":
			c.listen = f[1]
		case "log":
			if _, err := note.NewVerifier(f[1]); err != nil {
				return nil, ioError("witness config %s: line %d: log key %q: %v", path, n+1, f[1], err)
			}
			c.logs = append(c.logs, f[1])
		default:
			return nil, ioError("witness config %s: line %d: unknown keyword %q (want name, key, state, listen or log)", path, n+1, f[0])
		}
	}
	return c, nil
}

// marshal writes the config back, paths relative to its directory when
// they are inside it.
func (c *witnessConfig) marshal() []byte {
	var b bytes.Buffer
	b.WriteString("# sealog witness configuration (docs/WITNESS.md)\n")
	rel := func(p string) string {
		if r, err := filepath.Rel(absPath(filepath.Dir(c.path)), absPath(p)); err == nil && !strings.HasPrefix(r, "..") {
			return r
		}
		return p
	}
	for _, kv := range [][2]string{{"name", c.name}, {"key", rel(c.key)}, {"state", rel(c.state)}, {"listen", c.listen}} {
		if kv[1] != "" && kv[1] != "." {
			fmt.Fprintf(&b, "%s %s\n", kv[0], kv[1])
		}
	}
	for _, l := range c.logs {
		fmt.Fprintf(&b, "log %s\n", l)
	}
	return b.Bytes()
}

func (c *witnessConfig) write() error {
	if err := durable.WriteFile(c.path, c.marshal(), 0o644); err != nil {
		return ioError("writing %s: %v", c.path, pathErr(err))
	}
	return nil
}

// witnessLogs groups the configured log keys by origin.
func witnessLogs(vkeys []string) ([]witness.Log, error) {
	byOrigin := map[string]*witness.Log{}
	var out []witness.Log
	var order []string
	for _, k := range vkeys {
		v, err := note.NewVerifier(k)
		if err != nil {
			return nil, usageError("witness: log key %q: %v", k, err)
		}
		l := byOrigin[v.Name()]
		if l == nil {
			l = &witness.Log{Origin: v.Name()}
			byOrigin[v.Name()] = l
			order = append(order, v.Name())
		}
		l.Verifiers = append(l.Verifiers, v)
	}
	for _, o := range order {
		out = append(out, *byOrigin[o])
	}
	return out, nil
}

// loadCosigner reads a witness secret key file, which must be private.
func loadCosigner(path string) (*checkpoint.Cosigner, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, ioError("witness key %s: %v", path, pathErr(err)).withHint("make one with 'sealog witness keygen --name NAME -o %s'", path)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, ioError("witness key %s is readable by others (mode %04o); it must be 0600", path, fi.Mode().Perm()).withHint("chmod 600 %s", path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, ioError("witness key %s: %v", path, pathErr(err))
	}
	cs, err := checkpoint.ParseCosigner(string(b))
	if err != nil {
		return nil, ioError("witness key %s: %v", path, err)
	}
	return cs, nil
}
