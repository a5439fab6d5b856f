package main

import (
	"encoding/json"
	"fmt"

	"github.com/sealog/sealog"
	storeopen "github.com/sealog/sealog/store/open"
)

var keyCmd = &command{
	name:    "key",
	summary: "rotate the log's signing key, or revoke one",
	usage: `Usage: sealog key rotate LOG --key OLD --new NEW [--json]
       sealog key revoke LOG --key SIGNER --revoke KEY.pub --size P [--time T]

Hands the log in LOG (a directory, or a postgres:// or sqlite: URL) over
to a new signing key. It appends a rotation record — an entry of kind
sealog.rotate naming NEW's verifier key and OLD's — alone in its batch
and signed by OLD, so OLD's last checkpoint covers it; every later batch
is signed by NEW. Stop every other writer of the log first: a writer
still holding OLD refuses to append after the rotation.

Verifiers given any key of the chain follow it (sealog verify --key OLD.pub
or --keys FILE) and report each key's entries. Give auditors NEW.pub, and
keep OLD.pub in their list of trusted keys (docs/KEYS.md).

OLD and NEW are private signer key files, or ssh-agent:FINGERPRINT for a
key held in the ssh-agent at $SSH_AUTH_SOCK. NEW must be for the log's
origin and never used by the log before (make one with 'sealog keygen -o
NEW --name ORIGIN').

Prints the rotation record's seq, the new verifier key and the receipt.

revoke prints a revocation statement for a key that leaked: nothing
KEY signs for a tree larger than P entries is trusted any more (witness
cosignatures made before time T, default now, still count). SIGNER is a
key auditors trust other than KEY: an offline root key listed in their
--keys file, or the key KEY was rotated to at or before P. Hand the
statement to auditors: 'sealog verify LOG --keys FILE --revocations STMT'
fails if entries are covered only by KEY past P (docs/KEYS.md).

Flags:
    --key OLD    the log's current signer key (default: $SEALOG_KEY); for
                 revoke, the key that signs the statement
    --new NEW    the signer key to hand over to
    --json       print {"seq","key","previous_key","receipt"}
    --revoke K   revoke: the verifier key (file or text) revoked
    --size P     revoke: the revocation point, a tree size
    --time T     revoke: RFC 3339 time of the leak (default: now)
`,
}

func init() { keyCmd.run = runKey }

func runKey(e *env, args []string) error {
	c := keyCmd
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) == 0 {
			return usageError("key: missing a subcommand (rotate or revoke)").withHint("run 'sealog key -h' for usage")
		}
		fmt.Fprint(e.stdout, c.usage)
		return errHelp
	}
	if args[0] == "revoke" {
		return runKeyRevoke(e, args[1:])
	}
	if args[0] != "rotate" {
		return usageError("key: unknown subcommand %q (rotate or revoke)", args[0]).withHint("run 'sealog key -h' for usage")
	}
	fl := newFlags(c)
	oldFile := fl.String("key", "", "")
	newFile := fl.String("new", "", "")
	asJSON := fl.Bool("json", false, "")
	pos, err := parseArgs(e, c, fl, args[1:])
	if err != nil {
		return err
	}
	if err := wantArgs(c, pos, 1, 1, "LOG (a log directory or a store URL)"); err != nil {
		return err
	}
	if *newFile == "" {
		return usageError("key rotate: missing --new NEW (the signer key to hand over to)").
			withHint("make one with 'sealog keygen -o NEW --name ORIGIN'")
	}
	name := pos[0]
	loc, err := storeopen.Parse(name)
	if err != nil {
		return usageError("key rotate: %v", err)
	}
	var l *sealog.Log
	var origin string
	if loc.Kind == storeopen.File {
		meta, err := requireLog(loc.Path)
		if err != nil {
			return err
		}
		origin = meta.Origin
	} else {
		st, err := storeopen.OpenLocation(e.ctx, loc, storeopen.Options{NoCreate: true, Logger: newLogger(e, false)})
		if err != nil {
			return ioError("%s: %v", loc, err)
		}
		meta, err := st.Metadata(e.ctx)
		if err != nil {
			st.Close()
			return ioError("%s: %v", loc, err)
		}
		origin = meta.Origin
		oldKey, err := loadSignerFor(e, c, *oldFile, origin)
		if err != nil {
			st.Close()
			return err
		}
		if l, err = sealog.New(e.ctx, st, sealog.Options{Key: oldKey, Logger: newLogger(e, false)}); err != nil {
			st.Close()
			return ioError("%s: %v", loc, trimSealog(err)).withHint("--key must be the key the log is signed by now")
		}
	}
	newKey, err := loadSignerFor(e, c, *newFile, origin)
	if err != nil {
		if l != nil {
			l.Close()
		}
		return err
	}
	if l == nil {
		oldKey, err := loadSignerFor(e, c, *oldFile, origin)
		if err != nil {
			return err
		}
		if l, err = openWriter(e, loc.Path, oldKey, sealog.Options{}); err != nil {
			return err
		}
	}
	prev := l.VerifierKey()
	r, err := l.Rotate(e.ctx, newKey)
	cerr := l.Close()
	if err != nil {
		return ioError("%v", trimSealog(err)).withHint("nothing was changed unless the error says the rotation committed")
	}
	if cerr != nil {
		return ioError("%v", cerr)
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"seq": r.Seq, "key": newKey.VerifierKey(), "previous_key": prev, "receipt": r})
	}
	fmt.Fprintf(e.stdout, "rotated %s: entry %d hands the log over\n  from %s\n  to   %s\nBatches after entry %d are signed by the new key. Give auditors the new verifier key, and keep the old one trusted.\n",
		name, r.Seq, prev, newKey.VerifierKey(), r.Seq)
	return nil
}
