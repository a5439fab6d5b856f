package main

import (
	"bufio"
	"bytes"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/sealog/sealog/bundle"
	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/tstoken"
	"github.com/sealog/sealog/verify"
)

var verifyProofCmd = &command{
	name:    "verify-proof",
	summary: "check an inclusion or consistency proof offline",
	usage: `Usage: sealog verify-proof FILE --key FILE.pub [--tsa-roots CA.pem] [--json]

Checks a proof made by 'sealog prove' (or 'sealog show --proof'), with
nothing but the log's verifier key: a C2SP tlog-proof (the checkpoint's
signature, the entry's line and its inclusion proof; the entry is shown),
a consistency proof (both checkpoints' signatures and the proof that the
older tree is a prefix of the newer), or a receipt (JSON, from an append
or 'sealog prove --receipt': its checkpoint's signature and inclusion
proof, and the RFC 3161 timestamp it carries, if any: the time before
which the entry existed). FILE - reads stdin.

Flags:
    --key K    the log's verifier key: a .pub file or the key text (required)
    --tsa-roots FILE  the CAs (PEM) of the time-stamping authorities you
               trust: a receipt's timestamp must chain to one
    --json     print the result as JSON
`,
}

func init() { verifyProofCmd.run = runVerifyProof }

func runVerifyProof(e *env, args []string) error {
	c := verifyProofCmd
	fl := newFlags(c)
	keyArg := fl.String("key", "", "")
	tsaRoots := fl.String("tsa-roots", "", "")
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
	roots, err := loadTSARoots(*tsaRoots)
	if err != nil {
		return err
	}
	data, err := readInput(e, pos[0])
	if err != nil {
		return err
	}
	switch {
	case bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("{")):
		return verifyReceiptFile(e, pos[0], data, vkey, roots, *asJSON)
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
	return ioError("%s is not a proof: it starts with neither %q nor %q, nor is it a receipt (JSON)", pos[0], bundle.InclusionHeader, bundle.ConsistencyHeader)
}

// verifyReceiptFile checks a receipt (verify.Receipt as JSON) and the
// timestamp it carries: against roots, or, without them, only that it
// is bound to the entry.
func verifyReceiptFile(e *env, name string, data []byte, vkey string, roots []*x509.Certificate, asJSON bool) error {
	var r verify.Receipt
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return ioError("%s: not a receipt: %v", name, err)
	}
	res := map[string]any{"kind": "receipt", "seq": r.Seq}
	var (
		ck   checkpoint.Checkpoint
		tc   verify.TimestampCheck
		verr error
	)
	if r.Timestamp == nil {
		ck, verr = verify.VerifyReceipt(r, vkey)
	} else {
		ck, tc, verr = verify.VerifyReceiptTimestamp(r, vkey, tstoken.Checker{Roots: roots})
	}
	res["valid"], res["size"], res["root"] = verr == nil, ck.Size, ck.Root
	status := ""
	switch {
	case verr != nil:
		res["problem"] = verr.Error()
	case r.Timestamp != nil:
		status = "ok"
		if tc.Signer == verify.SignerUnchecked {
			status = "bound"
		}
		res["timestamp"] = map[string]any{"time": tc.Time, "tsa": tc.TSA, "status": status}
	}
	if asJSON {
		if err := writeJSON(e.stdout, res); err != nil {
			return err
		}
	} else if verr != nil {
		fmt.Fprintf(e.stdout, "status:    INVALID\nproblem:   %v\n", verr)
	} else {
		fmt.Fprintf(e.stdout, "status:    VALID\nentry %d (leaf %s) is in the log's tree of %d entries (root %s), signed by its key\n", r.Seq, r.LeafHash, ck.Size, ck.Root)
		switch status {
		case "":
			fmt.Fprintf(e.stdout, "timestamp: none (ask for the receipt again with 'sealog prove --receipt' once the log's TSA stamped it)\n")
		default:
			fmt.Fprintf(e.stdout, "timestamp: entry %d existed before %s (%s)\n", r.Seq, tc.Time.Format(time.RFC3339), tc.TSA)
			if status == "bound" {
				fmt.Fprintf(e.stdout, "           its signer was not checked: give --tsa-roots\n")
			}
		}
	}
	if verr != nil {
		return errFailedQuiet
	}
	return nil
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
