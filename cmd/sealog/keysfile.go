package main

import (
	"crypto/x509"
	"os"
	"strings"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/bundle"
	"github.com/sealog/sealog/verify"
)

// readTrustedKeys reads an auditor's file of trusted verifier keys: one
// key a line, blank lines and lines starting with # ignored (docs/KEYS.md).
func readTrustedKeys(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, ioError("--keys %s: %v", path, pathErr(err))
	}
	var ks []string
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "PRIVATE+KEY+") {
			return nil, ioError("--keys %s: line %d is a private signer key; the file lists verifier keys only", path, i+1).
				withHint("put the .pub files' lines in it, and never a private key")
		}
		if _, vkey, err := sealog.ParseVerifier(line); err != nil {
			return nil, ioError("--keys %s: line %d: %v", path, i+1, err)
		} else {
			ks = append(ks, vkey)
		}
	}
	if len(ks) == 0 {
		return nil, ioError("--keys %s holds no verifier key", path)
	}
	return ks, nil
}

// firstKey is the trusted key that names the log's origin for messages.
func firstKey(o verify.Options) string {
	if o.Key != "" || len(o.Keys) == 0 {
		return o.Key
	}
	return o.Keys[0]
}

// readRevocations reads revocation statements and witness keys into o.
func readRevocations(o *verify.Options, files, witnesses []string) error {
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			return ioError("--revocations %s: %v", p, pathErr(err))
		}
		if _, err := verify.ParseRevocation(b); err != nil {
			return ioError("--revocations %s: %v", p, err)
		}
		o.Revocations = append(o.Revocations, b)
	}
	for _, w := range witnesses {
		if b, err := os.ReadFile(w); err == nil {
			w = strings.TrimSpace(string(b))
		}
		o.Witnesses = append(o.Witnesses, w)
	}
	return nil
}

// verifyBundleWith verifies a bundle with vkey, or with the key of the
// keys file that its checkpoint's signature verifies with (the first
// key's result when none does).
func verifyBundleWith(data []byte, vkey, keysFile string, roots []*x509.Certificate) (*bundle.Result, error) {
	var ks []string
	if keysFile != "" {
		if vkey != "" {
			return nil, usageError("verify-bundle: give --key or --keys, not both")
		}
		var err error
		if ks, err = readTrustedKeys(keysFile); err != nil {
			return nil, err
		}
	}
	b, err := bundle.Parse(data)
	if err != nil {
		return nil, err
	}
	if keysFile == "" {
		return b.VerifyTSA(vkey, roots), nil
	}
	var first *bundle.Result
	for i, k := range ks {
		res := b.VerifyTSA(k, roots)
		if res.Checkpoint.SignatureOK {
			return res, nil
		}
		if i == 0 {
			first = res
		}
	}
	return first, nil
}
