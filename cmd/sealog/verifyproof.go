package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"

	"github.com/sealog/sealog/bundle"
)

var verifyProofCmd = &command{
	name:    "verify-proof",
	summary: "check an inclusion or consistency proof offline",
	usage: `Usage: sealog verify-proof FILE --key FILE.pub [--json]

Checks a proof made by 'sealog prove' (or 'sealog show --proof'), with
nothing but the log's verifier key: a C2SP tlog-proof (the checkpoint's
signature, the entry's line and its inclusion proof; the entry is shown),
or a consistency proof (both checkpoints' signatures and the proof that the
older tree is a prefix of the newer). FILE - reads stdin.

Flags:
    --key K    the log's verifier key: a .pub file or the key text (required)
    --json     print the result as JSON
`,
}

func init() { verifyProofCmd.run = runVerifyProof }

func runVerifyProof(e *env, args []string) error {
	c := verifyProofCmd
	fl := newFlags(c)
	keyArg := fl.String("key", "", "")
	asJSON := fl.Bool("json", false, "")
	pos, err := parseArgs(e, c, fl, args)
	if err != nil {
		return err
	}
	if err := wantArgs(c, pos, 1, 1, "FILE (the proof)"); err != nil {
		return err
	}
	if *keyArg == "" {
		return usageError("verify-proof: missing --key: a proof is only as good as the key it is checked with").
			withHint("pass the log's verifier key from your own records: --key FILE.pub")
	}
	vkey, err := loadVerifierKey(*keyArg)
	if err != nil {
		return err
	}
	data, err := readInput(e, pos[0])
	if err != nil {
		return err
	}
	switch {
	case bytes.HasPrefix(data, []byte(bundle.InclusionHeader+"\n")):
		p, err := bundle.ParseInclusionProof(data)
		if err != nil {
			return ioError("%s: %v", pos[0], err)
		}
		res, err := p.Verify(vkey)
		if err != nil {
			return failError("%s: %v", pos[0], err)
		}
		if *asJSON {
			if err := writeJSON(e.stdout, res); err != nil {
				return err
			}
		} else {
			bw := bufio.NewWriter(e.stdout)
			writeBundleText(bw, res, pos[0], "inclusion proof")
			bw.Flush()
		}
		if !res.Valid {
			return errFailedQuiet
		}
		return nil
	case bytes.HasPrefix(data, []byte(bundle.ConsistencyHeader+"\n")):
		p, err := bundle.ParseConsistencyProof(data)
		if err != nil {
			return ioError("%s: %v", pos[0], err)
		}
		oldCk, newCk, verr := p.Verify(vkey)
		if *asJSON {
			res := map[string]any{"valid": verr == nil, "kind": "consistency", "old_size": oldCk.Size, "old_root": oldCk.Root, "new_size": newCk.Size, "new_root": newCk.Root}
			if verr != nil {
				res["problem"] = verr.Error()
			}
			if err := writeJSON(e.stdout, res); err != nil {
				return err
			}
			if verr != nil {
				return errFailedQuiet
			}
			return nil
		}
		if verr != nil {
			fmt.Fprintf(e.stdout, "status:  INVALID\nproblem: %v\n", verr)
			return errFailedQuiet
		}
		fmt.Fprintf(e.stdout, "status:  VALID\nthe log's tree at size %d (root %s) is a prefix of its tree at size %d (root %s):\nno entry the older checkpoint covers was changed or removed.\n", oldCk.Size, oldCk.Root, newCk.Size, newCk.Root)
		return nil
	}
	return ioError("%s is not a proof: it starts with neither %q nor %q", pos[0], bundle.InclusionHeader, bundle.ConsistencyHeader)
}

// readInput reads a file, or stdin for "-", refusing more than
// bundle.MaxSize bytes before reading them (a sparse file of gigabytes
// costs no disk, and would cost that much memory).
func readInput(e *env, path string) ([]byte, error) {
	var b []byte
	var err error
	if path == "-" {
		if b, err = io.ReadAll(io.LimitReader(e.stdin, bundle.MaxSize+1)); err == nil && len(b) > bundle.MaxSize {
			err = fmt.Errorf("%w: over the %d-byte limit", bundle.ErrTooLarge, bundle.MaxSize)
		}
	} else {
		b, err = bundle.ReadLimited(path, bundle.MaxSize)
	}
	if err != nil {
		return nil, ioError("%s: %v", path, pathErr(err))
	}
	return b, nil
}

func parseUint(s string) (uint64, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return n, nil
}
