package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/sealog/sealog/compat"
)

// verifyLegacy verifies a Spine, spanforge or immutable-logging log.
func verifyLegacy(e *env, f *verifyFlags, lf compat.Format, pos []string, detected string) error {
	if so := f.sealogOnly(); len(so) > 0 {
		return usageError("verify: %s: for sealog logs only; this is a %s log", strings.Join(so, ", "), lf).
			withHint("legacy logs take --anchor FILE to rule out truncation")
	}
	path, err := legacyInput(lf, pos)
	if err != nil {
		return err
	}
	opts, err := legacyOptions(e, f, lf, path)
	if err != nil {
		return err
	}
	rep, err := compat.Verify(e.ctx, lf, path, opts)
	if err != nil {
		return ioError("%s: %v", path, err).withHint("check the path and --format (spine takes a WAL directory, spanforge and immutable-logging a file)")
	}
	switch {
	case f.quiet:
	case f.asJSON:
		fmt.Fprintf(e.stderr, "sealog: format: %s\n", detected)
		if err := writeJSON(e.stdout, rep); err != nil {
			return err
		}
	default:
		bw := bufio.NewWriter(e.stdout)
		writeLegacyText(bw, rep, path, detected)
		if err := bw.Flush(); err != nil {
			return err
		}
		// A hint, on stderr like every hint.
		fmt.Fprintf(e.stderr, "hint: to keep these records tamper-evident from now on: sealog import --format %s %s DEST --key FILE\n", rep.Format, shellJoin([]string{path}))
	}
	if !rep.Valid {
		return errFailedQuiet
	}
	return nil
}

// legacyInput picks the path to verify. An immutable-logging rotated set
// may be given as all its files (oldest first, as a fixture's "input"
// lists them): the set is named by its current log, the name the others
// extend with a rotation suffix (.N or .YYYYmmddTHHMMSS-ffffff[-N]). If
// that file is not there, the newest file given is used.
func legacyInput(lf compat.Format, pos []string) (string, error) {
	if len(pos) == 1 {
		return pos[0], nil
	}
	if lf != compat.ImmutableLogging {
		return "", usageError("verify: a %s log is one path; got %d", lf, len(pos))
	}
	base := ""
	for _, p := range pos {
		b := filepath.Join(filepath.Dir(p), rotationSuffix.ReplaceAllString(filepath.Base(p), ""))
		if base == "" {
			base = b
		} else if b != base {
			return "", usageError("verify: %s is not part of the rotated set of %s", p, base).
				withHint("give the current log file; its rotated siblings are found beside it")
		}
	}
	if _, err := os.Stat(base); err != nil {
		return pos[len(pos)-1], nil
	}
	return base, nil
}

// rotationSuffix matches the suffix a rotated immutable-logging file adds
// to the current log's name.
var rotationSuffix = regexp.MustCompile(`\.([0-9]+|[0-9]{8}T[0-9]{6}-[0-9]{6}(-[0-9]+)?)$`)

// legacyOptions builds what the verifier trusts from --trust, --keys,
// --key, --secret and SPANFORGE_HMAC_SECRET, and the anchor.
func legacyOptions(e *env, f *verifyFlags, lf compat.Format, path string) (compat.Options, error) {
	var opts compat.Options
	if f.trust != "" {
		t, err := readTrust("--trust", f.trust)
		if err != nil {
			return opts, err
		}
		opts.Trust = t
	}
	if f.keysFile != "" {
		t, err := readTrust("--keys", f.keysFile)
		if err != nil {
			return opts, err
		}
		opts.Trust.Keys = append(opts.Trust.Keys, t.Keys...)
		if opts.Trust.ServerKey == nil {
			opts.Trust.ServerKey = t.ServerKey
		}
	}
	for _, k := range f.keys {
		if lf != compat.Spine {
			return opts, usageError("verify: --key is for sealog and Spine logs; a %s log takes %s", lf, map[compat.Format]string{compat.Spanforge: "--secret S or --trust FILE", compat.ImmutableLogging: "no key (its hash is unkeyed)"}[lf])
		}
		ref, err := spineKey(k, path)
		if err != nil {
			return opts, err
		}
		opts.Trust.Keys = append(opts.Trust.Keys, ref)
	}
	secrets := []string(f.secrets)
	if len(secrets) > 0 && lf != compat.Spanforge {
		return opts, usageError("verify: --secret is for spanforge chains; this is a %s log", lf)
	}
	if len(secrets) == 0 && lf == compat.Spanforge && opts.Trust.Secret == "" {
		if s := e.getenv("SPANFORGE_HMAC_SECRET"); s != "" {
			secrets = []string{s}
		}
	}
	for _, s := range secrets {
		if opts.Trust.Secret == "" {
			opts.Trust.Secret = s
		} else {
			opts.Trust.Secrets = append(opts.Trust.Secrets, s)
		}
	}
	switch {
	case lf == compat.Spanforge && f.trust == "" && opts.Trust.Secret == "" && len(opts.Trust.Secrets) == 0:
		return opts, usageError("verify: a spanforge chain is signed with an HMAC secret, and none was given").
			withHint("pass --secret S, --trust FILE, or set SPANFORGE_HMAC_SECRET")
	case lf == compat.Spine && f.trust == "" && len(opts.Trust.Keys) == 0:
		return opts, usageError("verify: Spine records are signed, and no trusted key was given").
			withHint("pass --keys keys.json, --trust FILE or --key KEYID=HEX; a record's embedded public key is never trusted")
	}
	if f.anchor != "" {
		b, err := os.ReadFile(f.anchor)
		if err != nil {
			return opts, ioError("--anchor %s: %v", f.anchor, pathErr(err))
		}
		a, err := compat.ParseAnchor(b)
		if err != nil {
			return opts, ioError("--anchor %s: %v", f.anchor, err).withHint(`an anchor looks like {"entries": 8, "last_sha256": "54a8..."}`)
		}
		opts.Anchor = &a
	}
	return opts, nil
}

// readTrust reads a --trust or --keys file.
func readTrust(flag, path string) (compat.Trust, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return compat.Trust{}, ioError("%s %s: %v", flag, path, pathErr(err))
	}
	t, err := compat.ParseTrust(b)
	if err != nil {
		return t, ioError("%s %s: %v", flag, path, err).
			withHint(`Spine: {"keys":[{"key_id":"...","public_key":"<64 hex>"}]}; spanforge: {"secret":"...","key_map":{"<event_id>":"<secret>"}}`)
	}
	return t, nil
}

// spineKey parses --key for Spine: KEYID=HEX, or a bare HEX whose key_id
// is stream.meta.json's initial_key_id, else the first record's key_id.
func spineKey(arg, dir string) (compat.KeyRef, error) {
	id, hx, ok := strings.Cut(arg, "=")
	if !ok {
		id, hx = "", arg
	}
	if b, err := hex.DecodeString(hx); err != nil || len(b) != 32 {
		return compat.KeyRef{}, usageError("verify: --key %q: a Spine key is KEYID=HEX or HEX, HEX being a 32-byte Ed25519 public key in 64 hex digits", arg)
	}
	if id == "" {
		id = spineInitialKeyID(dir)
		if id == "" {
			return compat.KeyRef{}, usageError("verify: --key %s: cannot tell its key_id (no stream.meta.json and no record)", arg).
				withHint("give it as --key KEYID=HEX")
		}
	}
	return compat.KeyRef{KeyID: id, PublicKey: strings.ToLower(hx)}, nil
}

// spineInitialKeyID returns the WAL's initial key_id, or "".
func spineInitialKeyID(dir string) string {
	var meta struct {
		InitialKeyID string `json:"initial_key_id"`
		KeyID        string `json:"key_id"`
	}
	if b, err := os.ReadFile(filepath.Join(dir, "stream.meta.json")); err == nil && json.Unmarshal(b, &meta) == nil && meta.InitialKeyID != "" {
		return meta.InitialKeyID
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "segment_*.jsonl"))
	sort.Strings(segs)
	for _, s := range segs {
		fh, err := os.Open(s)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 4<<20)
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) == "" {
				continue
			}
			meta.KeyID = ""
			if json.Unmarshal(sc.Bytes(), &meta) == nil && meta.KeyID != "" {
				fh.Close()
				return meta.KeyID
			}
			break
		}
		fh.Close()
	}
	return ""
}
