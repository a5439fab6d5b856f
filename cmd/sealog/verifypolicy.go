package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/sealog/sealog/bundle"
	"github.com/sealog/sealog/layout"
	"github.com/sealog/sealog/policy"
	"github.com/sealog/sealog/verify"
)

// witnessCheck is what 'verify --policy' and 'verify-bundle --policy'
// found: the newest checkpoint that the policy's quorum cosigned, and who
// vouched for it and when.
type witnessCheck struct {
	Policy  string        `json:"policy"`
	Quorum  bool          `json:"quorum"`
	Size    uint64        `json:"size,omitempty"`
	Root    string        `json:"root,omitempty"`
	Vouched []witnessedBy `json:"vouched"`
	Problem string        `json:"problem,omitempty"`
	note    []byte
}

// witnessedBy is one witness's cosignature.
type witnessedBy struct {
	Witness string    `json:"witness"`
	Key     string    `json:"key"`
	Time    time.Time `json:"time"`
}

// policyLogKey is the policy's key for the log of origin (the origin is
// a log key's name), or "" when it lists no log of that origin.
func policyLogKey(p *policy.Policy, origin string) string {
	for _, l := range p.Logs {
		if l.Verifier.Name() == origin {
			return l.VKey
		}
	}
	return ""
}

// checkWitnessed checks candidate checkpoints against the policy and
// keeps the newest one with the quorum. vkey is the log's key.
func checkWitnessed(path string, p *policy.Policy, vkey string, candidates [][]byte) (*witnessCheck, error) {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, ioError("the log's key %q: %v", vkey, err)
	}
	wc := &witnessCheck{Policy: path}
	var best *policy.Verdict
	var lastErr error
	for _, c := range candidates {
		vd, err := p.Check(c, v)
		if err != nil {
			lastErr = err
			continue
		}
		if best == nil || vd.Checkpoint.Size > best.Checkpoint.Size {
			best, wc.note = vd, c
		}
	}
	if best == nil {
		wc.Problem = "no checkpoint cosigned by the policy's quorum was found"
		if lastErr != nil {
			wc.Problem += fmt.Sprintf(" (%v)", trimPolicy(lastErr))
		}
		return wc, nil
	}
	wc.Quorum, wc.Size, wc.Root = true, best.Checkpoint.Size, fmt.Sprint(best.Checkpoint.Root)
	for _, vch := range best.Vouched {
		wc.Vouched = append(wc.Vouched, witnessedBy{Witness: vch.Witness.Name, Key: vch.Witness.VKey, Time: vch.Time})
	}
	return wc, nil
}

func trimPolicy(err error) string {
	s := err.Error()
	if len(s) > 8 && s[:8] == "policy: " {
		return s[8:]
	}
	return s
}

// witnessedCandidates is the log directory's witnessed checkpoint, if any.
func witnessedCandidates(dir string) [][]byte {
	b, err := os.ReadFile(filepath.Join(dir, layout.WitnessedFile))
	if err != nil || len(b) > 1<<16 {
		return nil
	}
	return [][]byte{b}
}

// write prints the witness section of a report.
func (wc *witnessCheck) write(w io.Writer, valid bool) {
	if wc == nil {
		return
	}
	fmt.Fprintf(w, "\nwitnesses:      policy %s\n", wc.Policy)
	if !wc.Quorum {
		fmt.Fprintf(w, "                NOT WITNESSED: %s; truncation and forks are not ruled out\n", wc.Problem)
		return
	}
	fmt.Fprintf(w, "                quorum cosigned the checkpoint of size %d (root %s)\n", wc.Size, wc.Root)
	for _, v := range wc.Vouched {
		fmt.Fprintf(w, "                vouched by %s at %s\n", v.Witness, v.Time.Format(time.RFC3339))
	}
	if valid {
		fmt.Fprintf(w, "                the log contains it: no truncation below size %d and no fork of it\n", wc.Size)
	} else {
		fmt.Fprintf(w, "                the log does NOT agree with it (see the problems above): changed, cut back or forked after the witnesses cosigned\n")
	}
}

// withWitnesses adds the witness section to a JSON report as "witnesses".
func withWitnesses(rep any, wc *witnessCheck) any {
	if wc == nil {
		return rep
	}
	b, err := json.Marshal(rep)
	if err != nil {
		return rep
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return rep
	}
	m["witnesses"] = wc
	return m
}

// applyPolicy is 'verify --policy': the log's key comes from the policy
// when --key is not given; the log directory's witnessed checkpoint and
// the --checkpoint files are the candidates; the newest one the quorum
// cosigned becomes a trusted checkpoint, which the verifier checks the
// log against (so a log cut below it or forked from it is TAMPERED).
func applyPolicy(f *verifyFlags, dir, origin string, opts *verify.Options, from *[]string) (*witnessCheck, error) {
	p, err := readPolicy("--policy", f.policy)
	if err != nil {
		return nil, err
	}
	if opts.Key == "" {
		if opts.Key = policyLogKey(p, origin); opts.Key == "" {
			return nil, usageError("verify: --policy %s lists no log of origin %q", f.policy, origin).withHint("add a 'log VKEY' line to the policy, or give --key FILE.pub")
		}
	}
	cands := append([][]byte(nil), opts.Checkpoints...)
	if _, isDB, _ := databaseLog(dir); !isDB {
		cands = append(cands, witnessedCandidates(logPath(dir))...)
	}
	wc, err := checkWitnessed(f.policy, p, opts.Key, cands)
	if err != nil {
		return nil, err
	}
	if wc.Quorum && len(cands) > len(opts.Checkpoints) && string(wc.note) == string(cands[len(cands)-1]) {
		opts.Checkpoints = append(opts.Checkpoints, wc.note)
		*from = append(*from, filepath.Join(logPath(dir), layout.WitnessedFile))
	}
	return wc, nil
}

// bundlePolicy is the witness check of a bundle's checkpoint.
type bundlePolicy struct{ wc *witnessCheck }

func (b *bundlePolicy) check() *witnessCheck {
	if b == nil {
		return nil
	}
	return b.wc
}

// bundleWithPolicy is 'verify-bundle --policy': the log's key (from the
// policy when vkey is empty) and the check of the bundle's checkpoint.
func bundleWithPolicy(path string, data []byte, vkey string) (*bundlePolicy, string, error) {
	p, err := readPolicy("--policy", path)
	if err != nil {
		return nil, "", err
	}
	b, err := bundle.Parse(data)
	if err != nil {
		return nil, "", ioError("%v", err).withHint("give a file written by 'sealog export'")
	}
	if vkey == "" {
		if vkey = policyLogKey(p, b.Origin); vkey == "" {
			return nil, "", usageError("verify-bundle: --policy %s lists no log of origin %q", path, b.Origin).withHint("add a 'log VKEY' line to the policy, or give --key FILE.pub")
		}
	}
	wc, err := checkWitnessed(path, p, vkey, [][]byte{[]byte(b.Checkpoint)})
	if err != nil {
		return nil, "", err
	}
	return &bundlePolicy{wc: wc}, vkey, nil
}
