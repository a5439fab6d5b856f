// Package policy reads witness policies in the C2SP tlog-policy form
// (https://c2sp.org/tlog-policy, the Sigsum policy format) and checks a
// cosigned checkpoint against one:
//
//	log <vkey> [<url>]
//	witness <name> <vkey> [<url>]
//	group <name> all|any|<k> <name>...
//	quorum <name>|none
//
// A checkpoint satisfies the policy when it is signed by one of the logs
// and cosigned (Ed25519 cosignature/v1) by witnesses that make up the
// quorum. A witness line's URL is its tlog-witness submission prefix.
package policy

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/sealog/sealog/checkpoint"
)

// Limits on a policy's size (the spec recommends supporting at least 32
// of each).
const (
	MaxLogs      = 64
	MaxWitnesses = 256
	MaxGroups    = 256
	MaxSize      = 1 << 20
)

// Policy is a parsed witness policy.
type Policy struct {
	Logs      []Log
	Witnesses []*Witness
	// Quorum is what must cosign; nil for "quorum none".
	Quorum *Group
}

// Log is a log the policy accepts.
type Log struct {
	VKey     string
	Verifier note.Verifier
	URL      string
}

// Witness is a witness the policy names.
type Witness struct {
	Name     string // the policy's name for it (not the key's)
	VKey     string
	Verifier *checkpoint.CosignatureVerifier
	URL      string // its submission prefix; empty if not given
}

// Group is a threshold of members, each a witness or another group. A
// single witness used as the quorum is a group of one with threshold 1.
type Group struct {
	Name      string
	Threshold int
	Witness   *Witness // set for a witness; then Members is empty
	Members   []*Group
}

// Parse parses a policy file.
func Parse(b []byte) (*Policy, error) {
	if len(b) > MaxSize {
		return nil, fmt.Errorf("policy: larger than %d bytes", MaxSize)
	}
	for i, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' || c == 0x7f {
			return nil, fmt.Errorf("policy: byte %d is the control character 0x%02x", i, c)
		}
	}
	p := &Policy{}
	names := map[string]*Group{}
	used := map[string]bool{} // keys, to refuse duplicates
	quorum := false
	for n, raw := range bytes.Split(b, []byte("\n")) {
		line := strings.TrimLeft(string(raw), " \t")
		f := strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\t' })
		if len(f) == 0 || strings.HasPrefix(line, "#") {
			continue
		}
		bad := func(format string, args ...any) error {
			return fmt.Errorf("policy: line %d: %s", n+1, fmt.Sprintf(format, args...))
		}
		switch f[0] {
		case "log":
			if len(f) < 2 || len(f) > 3 {
				return nil, bad("want log <vkey> [<url>]")
			}
			v, err := note.NewVerifier(f[1])
			if err != nil {
				return nil, bad("log key %q: %v", f[1], err)
			}
			k, err := keyMaterial(f[1])
			if err != nil {
				return nil, bad("%v", err)
			}
			if used[k] {
				return nil, bad("the log key %q is listed twice", f[1])
			}
			if len(p.Logs) == MaxLogs {
				return nil, bad("more than %d logs", MaxLogs)
			}
			used[k] = true
			p.Logs = append(p.Logs, Log{VKey: f[1], Verifier: v, URL: at(f, 2)})
		case "witness":
			if len(f) < 3 || len(f) > 4 {
				return nil, bad("want witness <name> <vkey> [<url>]")
			}
			if err := newName(names, f[1]); err != nil {
				return nil, bad("%v", err)
			}
			v, err := checkpoint.ParseCosignatureVerifier(f[2])
			if err != nil {
				return nil, bad("%v", err)
			}
			k, _ := keyMaterial(f[2])
			if used[k] {
				return nil, bad("the witness key %q is listed twice", f[2])
			}
			if len(p.Witnesses) == MaxWitnesses {
				return nil, bad("more than %d witnesses", MaxWitnesses)
			}
			used[k] = true
			w := &Witness{Name: f[1], VKey: f[2], Verifier: v, URL: at(f, 3)}
			p.Witnesses = append(p.Witnesses, w)
			names[f[1]] = &Group{Name: f[1], Threshold: 1, Witness: w}
		case "group":
			if len(f) < 4 {
				return nil, bad("want group <name> all|any|<k> <member>...")
			}
			if err := newName(names, f[1]); err != nil {
				return nil, bad("%v", err)
			}
			g := &Group{Name: f[1]}
			member := map[string]bool{}
			for _, m := range f[3:] {
				mg, ok := names[m]
				switch {
				case m == "none":
					return nil, bad("\"none\" cannot be a group member")
				case !ok:
					return nil, bad("group %s: %q is not defined on an earlier line", f[1], m)
				case member[m]:
					return nil, bad("group %s: %q is listed twice", f[1], m)
				}
				member[m] = true
				g.Members = append(g.Members, mg)
			}
			switch f[2] {
			case "all":
				g.Threshold = len(g.Members)
			case "any":
				g.Threshold = 1
			default:
				k, err := strconv.Atoi(f[2])
				if err != nil || strconv.Itoa(k) != f[2] || k < 1 || k > len(g.Members) {
					return nil, bad("group %s: threshold %q: want all, any or a number from 1 to %d", f[1], f[2], len(g.Members))
				}
				g.Threshold = k
			}
			if len(names)-len(p.Witnesses) >= MaxGroups {
				return nil, bad("more than %d groups", MaxGroups)
			}
			names[f[1]] = g
		case "quorum":
			if len(f) != 2 {
				return nil, bad("want quorum <name>")
			}
			if quorum {
				return nil, bad("a second quorum line")
			}
			quorum = true
			if f[1] != "none" {
				g, ok := names[f[1]]
				if !ok {
					return nil, bad("quorum %q is not defined on an earlier line", f[1])
				}
				p.Quorum = g
			}
		default:
			return nil, bad("unknown keyword %q (want log, witness, group or quorum)", f[0])
		}
	}
	if !quorum {
		return nil, errors.New("policy: no quorum line (write 'quorum none' to require no witness)")
	}
	return p, nil
}

func at(f []string, i int) string {
	if i < len(f) {
		return f[i]
	}
	return ""
}

func newName(names map[string]*Group, name string) error {
	if name == "none" {
		return errors.New("\"none\" is a reserved name")
	}
	if _, dup := names[name]; dup {
		return fmt.Errorf("the name %q is defined twice", name)
	}
	return nil
}

// keyMaterial is a vkey's public key material without its name, key ID
// and signature type (what makes two vkeys duplicates).
func keyMaterial(vkey string) (string, error) {
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 {
		return "", fmt.Errorf("key %q: not a verifier key", vkey)
	}
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) < 2 {
		return "", fmt.Errorf("key %q: not a verifier key", vkey)
	}
	return string(raw[1:]), nil
}
