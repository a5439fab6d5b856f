package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/sealog/sealog/bundle"
)

var verifyBundleCmd = &command{
	name:    "verify-bundle",
	summary: "check an evidence bundle offline",
	usage: `Usage: sealog verify-bundle BUNDLE [--key FILE.pub | --keys FILE] [--policy FILE] [--tsa-roots CA.pem] [--json | -q]

Checks an evidence bundle made by 'sealog export', offline and without the
rest of the log: the checkpoint's signature, each entry's exact line and
leaf hash, and each inclusion proof. Prints every entry, decoded (erased
entries are shown as erased). BUNDLE - reads stdin.

--key is the log's verifier key from your own records (a .pub file or the
key text). Without it the key inside the bundle is used, which proves only
that the bundle agrees with itself, not who signed it. For a log whose key
was rotated, --keys FILE (one verifier key a line, # comments) accepts a
bundle signed by any of them: the key the log was signed by when the
bundle was exported.

Flags:
    --key K    the log's verifier key
    --policy FILE  a witness policy (c2sp.org/tlog-policy): require that the
               bundle's checkpoint is cosigned by its quorum; the log's key
               comes from the policy when --key is not given
    --keys F   a file of trusted verifier keys (docs/KEYS.md)
    --tsa-roots FILE  the CAs (PEM) of the time-stamping authorities you
               trust: the bundle's RFC 3161 timestamp must chain to one
    --json     print the result as JSON
    -q         print nothing; the exit code says it all

Exit status: 0 valid, 1 invalid, 3 not a bundle or unreadable.
`,
}

func init() { verifyBundleCmd.run = runVerifyBundle }

func runVerifyBundle(e *env, args []string) error {
	c := verifyBundleCmd
	fl := newFlags(c)
	keyArg := fl.String("key", "", "")
	keysFile := fl.String("keys", "", "")
	tsaRoots := fl.String("tsa-roots", "", "")
	asJSON := fl.Bool("json", false, "")
	quiet := fl.Bool("q", false, "")
	policyFile := fl.String("policy", "", "")
	pos, err := parseArgs(e, c, fl, args)
	if err != nil {
		return err
	}
	if err := wantArgs(c, pos, 1, 1, "BUNDLE (the file to check)"); err != nil {
		return err
	}
	vkey, err := loadVerifierKey(*keyArg)
	if err != nil {
		return err
	}
	data, err := readInput(e, pos[0])
	if err != nil {
		return err
	}
	roots, err := loadTSARoots(*tsaRoots)
	if err != nil {
		return err
	}
	var pol *bundlePolicy
	if *policyFile != "" {
		if pol, vkey, err = bundleWithPolicy(*policyFile, data, vkey); err != nil {
			return err
		}
	}
	res, err := verifyBundleWith(data, vkey, *keysFile, roots)
	if err != nil {
		if errors.Is(err, bundle.ErrNotBundle) {
			return ioError("%s: %v", pos[0], err).withHint("give a file written by 'sealog export'")
		}
		if !*quiet {
			fmt.Fprintf(e.stdout, "status: INVALID\nproblem: %v\n", err)
		}
		return failError("%s: %v", pos[0], err)
	}
	switch {
	case *quiet:
	case *asJSON:
		if err := writeJSON(e.stdout, withWitnesses(res, pol.check())); err != nil {
			return err
		}
	default:
		bw := bufio.NewWriter(e.stdout)
		writeBundleText(bw, res, pos[0], "evidence bundle")
		pol.check().write(bw, res.Valid)
		if err := bw.Flush(); err != nil {
			return err
		}
	}
	if !res.Valid {
		return errFailedQuiet
	}
	if wc := pol.check(); wc != nil && !wc.Quorum {
		return failError("verify-bundle: --policy %s: %s", *policyFile, wc.Problem)
	}
	return nil
}

// writeBundleText writes a bundle.Result for people.
func writeBundleText(w io.Writer, r *bundle.Result, name, what string) {
	status := "VALID"
	if !r.Valid {
		status = "INVALID"
	}
	fmt.Fprintf(w, "sealog %s report\n\n", what)
	fmt.Fprintf(w, "status:      %s\n", status)
	fmt.Fprintf(w, "file:        %s\n", name)
	fmt.Fprintf(w, "origin:      %s\n", r.Origin)
	fmt.Fprintf(w, "key:         %s\n", r.Key)
	if r.KeyFromBundle {
		fmt.Fprintf(w, "             WARNING: this key was read from the bundle itself: the result proves\n")
		fmt.Fprintf(w, "             only that the bundle agrees with itself, not who signed it. Check it\n")
		fmt.Fprintf(w, "             with the log's verifier key from your own records: --key FILE.pub\n")
	} else {
		fmt.Fprintf(w, "             (given by the verifier)\n")
	}
	sig := "verified"
	if !r.Checkpoint.SignatureOK {
		sig = "NOT verified"
	}
	fmt.Fprintf(w, "checkpoint:  size %d, root %s, signature %s\n", r.Checkpoint.Size, r.Checkpoint.Root, sig)
	ok := 0
	for _, en := range r.Entries {
		if en.Verified {
			ok++
		}
	}
	fmt.Fprintf(w, "entries:     %d, %d proven in the checkpoint's tree\n", len(r.Entries), ok)
	writeBundleTimestamp(w, r.Timestamp)
	for _, p := range r.Problems {
		fmt.Fprintf(w, "problem:     %s\n", p)
	}
	for _, en := range r.Entries {
		mark := "ok"
		if !en.Verified {
			mark = "NOT VERIFIED"
			if en.Problem != "" {
				mark += ": " + en.Problem
			}
		}
		fmt.Fprintf(w, "\n--- entry %d [%s]\n", en.Seq, mark)
		if en.Time.IsZero() {
			continue
		}
		fmt.Fprintf(w, "time:      %s\n", en.Time.Format("2006-01-02T15:04:05.000000000Z07:00"))
		if en.Erased {
			fmt.Fprintf(w, "erased:    yes: its content was removed; its commitment remains and is proven\n")
		} else {
			fmt.Fprintf(w, "kind:      %s\nactor:     %s\nresource:  %s\npayload:   %s\n", en.Kind, orDash(en.Actor), orDash(en.Resource), indentPayload(en.Payload))
		}
		fmt.Fprintf(w, "leaf hash: %s\n", en.LeafHash)
	}
}
