package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/bundle"
)

// loadSigner loads the private signer key named by --key, or by the
// SEALOG_KEY environment variable when --key is empty. It never prints
// the key or the file's contents.
func loadSigner(e *env, c *command, path string) (*sealog.Key, error) {
	return loadSignerFor(e, c, path, "")
}

// loadSignerFor is loadSigner for a log whose origin is known, which a key
// held in an ssh-agent ("ssh-agent:FINGERPRINT", agentkey.go) needs.
func loadSignerFor(e *env, c *command, path, origin string) (*sealog.Key, error) {
	if path == "" {
		path = e.getenv("SEALOG_KEY")
	}
	if path == "" {
		return nil, usageError("%s: missing --key FILE (the private signer key)", c.name).
			withHint("pass --key FILE or set SEALOG_KEY=FILE; make a key with 'sealog keygen -o FILE'")
	}
	if fp, ok := strings.CutPrefix(path, agentPrefix); ok {
		return loadAgentKey(e, c, fp, origin)
	}
	k, err := sealog.LoadKey(path)
	switch {
	case err == nil:
		return k, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, ioError("key file %s does not exist", path).withHint("make a key with 'sealog keygen -o %s'", path)
	case errors.Is(err, sealog.ErrKeyPermissions):
		mode := ""
		if fi, serr := os.Stat(path); serr == nil {
			mode = fmt.Sprintf(" (mode %04o)", fi.Mode().Perm())
		}
		return nil, ioError("key file %s is readable by others%s; a private key must be readable by its owner only", path, mode).
			withHint("chmod 600 %s", path)
	case errors.Is(err, sealog.ErrVerifierKeyGiven):
		return nil, ioError("key file %s holds a verifier (public) key; writing needs the private signer key", path).
			withHint("pass the key file made by 'sealog keygen' without .pub")
	}
	if _, ok := err.(*fs.PathError); ok {
		return nil, ioError("key file %s: %v", path, pathErr(err))
	}
	// LoadKey's messages name the file and never its contents.
	return nil, ioError("%v", err).withHint("make a key with 'sealog keygen -o FILE'")
}

// loadVerifierKey reads a verifier key given as a .pub file path or as
// the key text itself ("origin+hash+base64").
func loadVerifierKey(arg string) (string, error) { return loadVerifierKeyIn(arg, nil) }

// privateKeyPrefix starts a note signer key, as 'sealog keygen' writes it.
const privateKeyPrefix = "PRIVATE+KEY+"

// loadVerifierKeyIn is loadVerifierKey recording what it read in in (when
// not nil). A private key, given as text or as a file, is refused without
// a word of it in the message.
func loadVerifierKeyIn(arg string, in *inputSet) (string, error) {
	if arg == "" {
		return "", nil
	}
	if strings.HasPrefix(strings.TrimSpace(arg), privateKeyPrefix) {
		return "", usageError("--key: this is a private key; pass the .pub file (the verifier key)").
			withHint("verifying needs only the verifier key; never hand out or paste the private key")
	}
	var b []byte
	var err error
	if in != nil {
		var rec inputSet
		b, err = rec.read("key", arg, maxKeyFile)
		if err == nil {
			defer func() { in.list = append(in.list, rec.list...) }()
		}
	} else {
		b, err = bundle.ReadLimited(arg, maxKeyFile)
	}
	if err != nil {
		if _, vkey, perr := sealog.ParseVerifier(strings.TrimSpace(arg)); perr == nil {
			if in != nil {
				in.inline("key", []byte(vkey))
			}
			return vkey, nil
		}
		if errors.Is(err, fs.ErrNotExist) {
			if strings.Count(arg, "+") >= 2 {
				return "", usageError("--key: the text given is neither a file nor a valid verifier key").
					withHint("a verifier key looks like origin+1234abcd+AbC...; or pass the .pub file made by 'sealog keygen'")
			}
			return "", ioError("key file %s does not exist", arg).withHint("pass the verifier key file (FILE.pub) or the key text")
		}
		return "", ioError("key file %s: %v", arg, pathErr(err))
	}
	text := strings.TrimSpace(string(b))
	if strings.HasPrefix(text, privateKeyPrefix) {
		return "", ioError("key file %s: this is a private key; pass the .pub file (the verifier key)", arg).
			withHint("pass %s.pub (never hand out the private key)", arg)
	}
	_, vkey, err := sealog.ParseVerifier(text)
	if err != nil {
		return "", ioError("key file %s is not a verifier key", arg).
			withHint("a verifier key file holds one line like origin+1234abcd+AbC..., as 'sealog keygen' writes to FILE.pub")
	}
	return vkey, nil
}

// pathErr strips the "op path:" prefix of a *fs.PathError, whose path the
// caller's message names already.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
