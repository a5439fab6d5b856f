package compat

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
)

// Anchor holds facts about a log recorded outside it (shipped to another
// machine, printed in a ticket, kept by sealog): how many records it had and
// the hash of the last one. In the shape of a fixture's "anchor" object. With
// an anchor, tail truncation and wholesale rewrites become detectable.
//
// Entries is the record count when the anchor was taken. LastSHA256 is the
// head: for immutable-logging the last sidecar H, for Spine the last entry
// hash (chain_state's prev_hash), for spanforge the last signature, checksum
// or event_id. For a rotated immutable-logging set the anchor applies to the
// current log file unless File names another; Files holds one anchor per file.
type Anchor struct {
	Entries    *int64   `json:"entries,omitempty"`
	LastSHA256 string   `json:"last_sha256,omitempty"`
	Heads      []string `json:"heads,omitempty"`
	File       string   `json:"file,omitempty"`
	Files      []Anchor `json:"files,omitempty"`
	Meaning    string   `json:"meaning,omitempty"`
}

// Spellings accepted by ParseAnchor.
var (
	anchorCountKeys = []string{"entries", "count", "records", "entry_count", "seq", "last_seq", "length"}
	anchorHeadKeys  = []string{"last_sha256", "head_hash", "last_hash", "head", "entry_hash", "last_entry_hash",
		"prev_hash", "hash", "last_signature", "signature", "last_checksum", "checksum", "last_event_id", "event_id"}
	anchorFileKeys = []string{"file", "path", "log"}
)

// ParseAnchor reads a JSON object shaped like a fixture's anchor:
// {"entries": N, "last_sha256": H}. It also accepts a Spine chain_state-like
// object ({"seq", "prev_hash"}), spanforge heads (last_signature,
// last_event_id, last_checksum), and "files" as a list of anchors or an
// object file name → anchor. Unknown members (such as "meaning") are kept
// only in Meaning or ignored.
func ParseAnchor(data []byte) (Anchor, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return Anchor{}, fmt.Errorf("anchor: not a JSON object: %w", err)
	}
	return anchorFromMap(raw, "")
}

func anchorFromMap(raw map[string]json.RawMessage, file string) (Anchor, error) {
	a := Anchor{File: file}
	for _, k := range anchorCountKeys {
		v, ok := raw[k]
		if !ok || isJSONNull(v) {
			continue
		}
		var n int64
		if err := json.Unmarshal(v, &n); err != nil || n < 0 {
			return a, fmt.Errorf("anchor: %s: want a count ≥ 0", k)
		}
		a.Entries = &n
		break
	}
	for _, k := range anchorHeadKeys {
		var s string
		if v, ok := raw[k]; ok && json.Unmarshal(v, &s) == nil && s != "" {
			if a.LastSHA256 == "" {
				a.LastSHA256 = s
			} else {
				a.Heads = append(a.Heads, s)
			}
		}
	}
	for _, k := range anchorFileKeys {
		var s string
		if v, ok := raw[k]; ok && json.Unmarshal(v, &s) == nil && s != "" {
			a.File = s
			break
		}
	}
	if v, ok := raw["meaning"]; ok {
		_ = json.Unmarshal(v, &a.Meaning)
	}
	if v, ok := raw["files"]; ok && !isJSONNull(v) {
		var list []map[string]json.RawMessage
		var byName map[string]map[string]json.RawMessage
		switch {
		case json.Unmarshal(v, &list) == nil:
			for _, m := range list {
				sub, err := anchorFromMap(m, "")
				if err != nil {
					return a, err
				}
				a.Files = append(a.Files, sub)
			}
		case json.Unmarshal(v, &byName) == nil:
			for name, m := range byName {
				sub, err := anchorFromMap(m, name)
				if err != nil {
					return a, err
				}
				a.Files = append(a.Files, sub)
			}
		default:
			return a, fmt.Errorf("anchor: files: want a list or an object of anchors")
		}
	}
	return a, nil
}

// heads returns every head value, normalised for comparison.
func (a *Anchor) heads() []string {
	var out []string
	for _, h := range append([]string{a.LastSHA256}, a.Heads...) {
		if h != "" {
			out = append(out, normHash(h))
		}
	}
	return out
}

func (a *Anchor) empty() bool {
	return a.Entries == nil && a.LastSHA256 == "" && len(a.Heads) == 0
}

// forFile returns the anchor that applies to file (a path), given that
// current is the file an anchor without a name applies to.
func (a *Anchor) forFile(file string, current bool) *Anchor {
	for i := range a.Files {
		if sameFileName(a.Files[i].File, file) {
			return &a.Files[i]
		}
	}
	if a.empty() {
		return nil
	}
	if a.File != "" {
		if sameFileName(a.File, file) {
			return a
		}
		return nil
	}
	if current {
		return a
	}
	return nil
}

func sameFileName(named, path string) bool {
	if named == "" {
		return false
	}
	return named == path || filepath.Base(named) == filepath.Base(path)
}

// normHash lowercases a hash and drops a known algorithm prefix.
func normHash(h string) string {
	h = strings.TrimSpace(h)
	for _, p := range []string{"hmac-sha256:", "sha256:", "sha256=", "blake3:"} {
		if len(h) > len(p) && strings.EqualFold(h[:len(p)], p) {
			h = h[len(p):]
			break
		}
	}
	return strings.ToLower(h)
}

// anchorCheck compares a stream of records with an anchor. Records are
// observed in order with their 0-based index and their identities (hashes,
// ids); verdict then says whether the log still holds what the anchor saw.
type anchorCheck struct {
	entries  int64 // -1 when the anchor has no count
	heads    []string
	matchAt  int // first index whose identity matched a head, or -1
	entryHit bool
}

func newAnchorCheck(a *Anchor) *anchorCheck {
	if a == nil || a.empty() {
		return nil
	}
	c := &anchorCheck{entries: -1, heads: a.heads(), matchAt: -1}
	if a.Entries != nil {
		c.entries = *a.Entries
	}
	return c
}

// observe looks at record idx, whose identities are ids.
func (c *anchorCheck) observe(idx int, ids ...string) {
	if c == nil || len(c.heads) == 0 {
		return
	}
	if c.matchAt >= 0 && (c.entries < 0 || int64(idx) != c.entries-1) {
		return
	}
	for _, id := range ids {
		if id == "" {
			continue
		}
		id = normHash(id)
		for _, h := range c.heads {
			if id == h {
				if c.matchAt < 0 {
					c.matchAt = idx
				}
				if int64(idx) == c.entries-1 {
					c.entryHit = true
				}
				return
			}
		}
	}
}

// verdict says, for a log of n records, whether it falls short of the
// anchor: bad, the index to report, and why. missing is true when records
// are missing at the end (the index is then n).
func (c *anchorCheck) verdict(n int) (bad, missing bool, at int, reason string) {
	if c == nil {
		return false, false, 0, ""
	}
	if c.entries >= 0 {
		if int64(n) < c.entries {
			return true, true, n, fmt.Sprintf("the anchor recorded %d records but the log holds %d: records are missing at the end", c.entries, n)
		}
		if len(c.heads) > 0 && !c.entryHit {
			if c.entries == 0 {
				return false, false, 0, ""
			}
			return true, false, int(c.entries - 1), fmt.Sprintf("record %d does not match the anchored head hash: the log was rewritten", c.entries-1)
		}
		return false, false, 0, ""
	}
	if c.matchAt < 0 {
		return true, true, n, "the anchored head hash is not in the log: it was truncated or rewritten"
	}
	return false, false, 0, ""
}
