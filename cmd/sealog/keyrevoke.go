package main

import (
	"strconv"
	"time"

	"github.com/sealog/sealog/checkpoint"
	"github.com/sealog/sealog/verify"
)

// runKeyRevoke is "sealog key revoke": it prints a signed revocation
// statement (docs/KEYS.md).
func runKeyRevoke(e *env, args []string) error {
	c := keyCmd
	fl := newFlags(c)
	signerFile := fl.String("key", "", "")
	revoked := fl.String("revoke", "", "")
	size := fl.String("size", "", "")
	at := fl.String("time", "", "")
	pos, err := parseArgs(e, c, fl, args)
	if err != nil {
		return err
	}
	if err := wantArgs(c, pos, 1, 1, "LOG (the log directory)"); err != nil {
		return err
	}
	if *revoked == "" || *size == "" {
		return usageError("key revoke: needs --revoke KEY.pub and --size P").withHint("run 'sealog key -h' for usage")
	}
	meta, err := requireLog(pos[0])
	if err != nil {
		return err
	}
	vkey, err := loadVerifierKey(*revoked)
	if err != nil {
		return err
	}
	p, err := strconv.ParseUint(*size, 10, 64)
	if err != nil {
		return usageError("key revoke: --size %q is not a tree size", *size)
	}
	t := time.Now().UTC().Truncate(time.Second)
	if *at != "" {
		if t, err = time.Parse(time.RFC3339, *at); err != nil {
			return usageError("key revoke: --time %q is not an RFC 3339 time (like 2026-11-30T12:00:00Z)", *at)
		}
	}
	signer, err := loadSignerFor(e, c, *signerFile, meta.Origin)
	if err != nil {
		return err
	}
	if signer.VerifierKey() == vkey {
		return usageError("key revoke: a key cannot revoke itself").
			withHint("sign with an offline root key or with the key it was rotated to")
	}
	text := verify.RevocationText(meta.Origin, vkey, p, t)
	sig, err := checkpoint.SignText(text, signer.Signer())
	if err != nil {
		return ioError("signing: %v", err)
	}
	_, err = e.stdout.Write(checkpoint.Assemble(text, signer.Origin(), sig))
	return err
}
