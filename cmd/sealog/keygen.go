package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/sealog/sealog"
)

var keygenCmd = &command{
	name:    "keygen",
	summary: "make a signing key pair for a new log",
	usage: `Usage: sealog keygen [-o FILE] [--name ORIGIN] [--json]
       sealog keygen -y FILE [--json]

Makes an Ed25519 key pair for a log. Writes the private signer key to FILE
(mode 0600; default sealog.key) and the public verifier key to FILE.pub,
and prints the verifier key. Give FILE.pub to your auditors; keep FILE
secret. Refuses to overwrite either file.

With -y, makes nothing: prints the verifier key of the private key in
FILE (to rebuild a lost FILE.pub: sealog keygen -y FILE > FILE.pub).

The key's name is the log's origin, the first line of its checkpoints:
non-empty, no spaces, no '+'. Default: <hostname>/audit.

Flags:
    -o FILE         where to write the private key (default sealog.key)
    --name ORIGIN   the log's origin, e.g. example.com/audit/prod
    -y FILE         print the verifier key of the private key in FILE
    --json          print {"origin","key","private_key_file","public_key_file"}
                    (with -y: {"origin","key","private_key_file"})
`,
}

func init() { keygenCmd.run = runKeygen }

func runKeygen(e *env, args []string) error {
	c := keygenCmd
	fl := newFlags(c)
	out := fl.String("o", "sealog.key", "")
	fl.StringVar(out, "output", "sealog.key", "")
	name := fl.String("name", "", "")
	asJSON := fl.Bool("json", false, "")
	fromFile := fl.String("y", "", "")
	pos, err := parseArgs(e, c, fl, args)
	if err != nil {
		return err
	}
	if err := wantArgs(c, pos, 0, 0, ""); err != nil {
		return err
	}
	if *fromFile != "" {
		if *name != "" || *out != "sealog.key" {
			return usageError("keygen: -y makes no key: it takes no -o or --name")
		}
		k, err := loadSigner(e, c, *fromFile)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(e.stdout, map[string]string{"origin": k.Origin(), "key": k.VerifierKey(), "private_key_file": *fromFile})
		}
		fmt.Fprintln(e.stdout, k.VerifierKey())
		return nil
	}
	origin := *name
	if origin == "" {
		origin = defaultOrigin()
	}
	if err := checkOrigin(origin); err != nil {
		return usageError("keygen: --name %q: %v", origin, err).withHint("use a name like example.com/audit")
	}
	for _, p := range []string{*out, *out + ".pub"} {
		if _, err := os.Lstat(p); err == nil {
			return ioError("%s already exists; refusing to overwrite a key", p).
				withHint("choose another file with -o, or move the old key away (its log can only be written with it)")
		}
	}
	vkey, err := sealog.WriteKeyFiles(*out, origin)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return ioError("cannot write %s: its directory does not exist", *out)
		}
		return ioError("writing the key: %v", err)
	}
	if *asJSON {
		return writeJSON(e.stdout, map[string]string{"origin": origin, "key": vkey, "private_key_file": *out, "public_key_file": *out + ".pub"})
	}
	fmt.Fprintf(e.stderr, "wrote the private key to %s (mode 0600: keep it secret, back it up)\n", *out)
	fmt.Fprintf(e.stderr, "wrote the verifier key to %s (give it to your auditors)\n", *out+".pub")
	fmt.Fprintln(e.stdout, vkey)
	return nil
}

// defaultOrigin is <hostname>/audit, or localhost/audit when the host
// name is unusable as a key name.
func defaultOrigin() string {
	h, err := os.Hostname()
	if err != nil || checkOrigin(h+"/audit") != nil {
		return "localhost/audit"
	}
	return h + "/audit"
}

// checkOrigin applies the signed-note rule for key names.
func checkOrigin(o string) error {
	switch {
	case o == "":
		return errors.New("empty")
	case strings.ContainsAny(o, "+"):
		return errors.New("contains '+'")
	case strings.ContainsFunc(o, func(r rune) bool {
		return r <= ' ' || r == 0x7f || r == 0x85 || r == 0xa0 || r == 0x2028 || r == 0x2029
	}):
		return errors.New("contains a space or a control character")
	}
	return nil
}

// writeJSON writes v as indented JSON and a newline.
func writeJSON(w interface{ Write([]byte) (int, error) }, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
